#include "saga.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <optional>
#include <random>

#include "purchase_steps.hpp"
#include "purchase_store.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::payment {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds backoff(const SagaSettings& s, int attempts) {
    // Exponential with full jitter: a flood of retries does not come back in step.
    const auto cap = std::min<std::int64_t>(s.backoff_max.count(), s.backoff_base.count()
                                                                       << std::min(attempts, 16));
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> pick(cap / 2, std::max<std::int64_t>(cap, 1));
    return std::chrono::milliseconds(pick(rng));
}

}  // namespace

struct Saga::Impl : std::enable_shared_from_this<Impl> {
    Impl(rt::IoContext& io_, rt::PgPool& pool_, StepRunner runner_, SagaSettings settings_,
         rt::MetricsRegistry& metrics)
        : io(io_),
          pool(pool_),
          store(pool_),
          runner(runner_),
          settings(std::move(settings_)),
          timer(io_),
          steps(metrics.counter("restinu_saga_steps_total",
                                "Purchase saga steps by outcome: started, succeeded, retried, "
                                "failed (turned the saga to compensation), compensated",
                                {"step", "outcome"})),
          step_seconds(metrics.histogram("restinu_saga_step_duration_seconds",
                                         "Time one saga step or compensation took",
                                         {"step", "direction"})),
          ended(metrics.counter("restinu_purchases_total", "Purchases that ended, by outcome",
                                {"outcome"})),
          duration(metrics.histogram("restinu_purchase_duration_seconds",
                                     "Accepted offer to completed or compensated purchase",
                                     {"outcome"},
                                     {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300})) {
        lease_owner = "saga-";
        rt::appendRandomHex(lease_owner, 16);
    }

    void crashPoint(const std::string& point) const {
        if (!settings.crash_at.empty() && settings.crash_at == point) {
            rt::log::warn("payment", "fault injection: killing the process", {{"at", point}});
            std::raise(SIGKILL);
        }
    }

    // Runs the purchase's steps while its lease stays ours: one claim carries it as far as it
    // goes (to the end, or to a step that must wait for a retry).
    rt::Task<void> runOne(PurchaseRow p) {
        while (running) {
            auto next = co_await runStep(p);
            if (!next || !next->held) {
                co_return;
            }
            p.state = next->state;
            p.step = next->step;
            p.attempts = 0;
            if (!next->reason.empty()) {
                p.failure_reason = next->reason;
            }
        }
    }

    // One step (or compensation) of `p` and its record; nullopt when the record failed (the
    // lease then ends by itself and the step runs again: it is idempotent).
    rt::Task<std::optional<Recorded>> runStep(PurchaseRow& p) {
        const bool forward = p.state == "running";
        const std::string prefix = forward ? "" : "compensate:";
        const auto started = Clock::now();
        StepOutcome outcome;
        try {
            crashPoint("before:" + prefix + p.step);
            if (forward) {
                steps.labels({p.step, "started"}).inc();
                outcome = co_await runner.forward(p);
            } else {
                outcome = co_await runner.backward(p);
            }
            crashPoint("after:" + prefix + p.step);
        } catch (const std::exception& e) {
            outcome = {StepOutcome::Kind::Retry, std::string("internal error: ") + e.what(), {}};
            rt::log::error("payment", "saga step threw",
                           {{"purchase", p.id}, {"step", p.step}, {"error", e.what()}});
        }
        const auto secs = std::chrono::duration<double>(Clock::now() - started).count();
        step_seconds.labels({p.step, forward ? "forward" : "compensate"}).observe(secs);
        if (!outcome.intent_id.empty()) {
            p.intent_id = outcome.intent_id;  // the capture step needs it
        }
        try {
            // (No co_await inside ?: : g++ 12 miscompiles it.)
            Recorded next;
            const auto retry_in = outcome.kind == StepOutcome::Kind::Wait
                                      ? settings.wait
                                      : backoff(settings, p.attempts);
            if (forward) {
                next = co_await store.recordForward(p, outcome, p.lease, settings.max_attempts,
                                                    retry_in, settings.lease);
            } else {
                next = co_await store.recordBackward(p, outcome, p.lease, retry_in, settings.lease);
            }
            count(p, forward, outcome, next);
            co_return next;
        } catch (const std::exception& e) {
            rt::log::error("payment", "saga could not record a step",
                           {{"purchase", p.id}, {"step", p.step}, {"error", e.what()}});
        }
        co_return std::nullopt;
    }

    void count(const PurchaseRow& p, bool forward, const StepOutcome& o, const Recorded& next) {
        using K = StepOutcome::Kind;
        if (forward) {
            const char* what = o.kind == K::Ok                ? "succeeded"
                               : o.kind == K::Wait            ? "waiting"
                               : next.state == "compensating" ? "failed"
                                                              : "retried";
            steps.labels({p.step, what}).inc();
        } else if (o.kind == K::Ok) {
            steps.labels({p.step, "compensated"}).inc();
        } else {
            steps.labels({p.step, "compensation_retried"}).inc();
        }
        if (next.state == "completed" || next.state == "failed") {
            ended.labels({next.state}).inc();
            duration.labels({next.state}).observe(next.age_seconds);
        }
    }

    rt::Task<std::size_t> runDue() {
        auto due = co_await store.claimDue(lease_owner, settings.lease, settings.batch);
        for (auto& p : due) {
            net::co_spawn(io, runOne(std::move(p)), net::detached);
        }
        // Lapsing offers is housekeeping: once a second is plenty.
        if (Clock::now() - last_lapse > std::chrono::seconds(1)) {
            last_lapse = Clock::now();
            co_await store.lapseOffers();
        }
        co_return due.size();
    }

    rt::Task<void> loop() {
        auto self = shared_from_this();
        while (running) {
            std::size_t n = 0;
            try {
                n = co_await runDue();
            } catch (const std::exception& e) {
                rt::log::warn("payment", "saga pass failed", {{"error", e.what()}});
            }
            if (!running) {
                break;
            }
            timer.expires_after(n > 0 ? std::chrono::milliseconds(5) : settings.poll);
            boost::system::error_code ec;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
    }

    rt::IoContext& io;
    rt::PgPool& pool;
    PurchaseStore store;
    StepRunner runner;
    SagaSettings settings;
    net::steady_timer timer;
    std::string lease_owner;
    Clock::time_point last_lapse{};
    bool running = false;
    rt::Family<rt::Counter>& steps;
    rt::Family<rt::Histogram>& step_seconds;
    rt::Family<rt::Counter>& ended;
    rt::Family<rt::Histogram>& duration;
};

Saga::Saga(rt::IoContext& io, rt::PgPool& pool, StepRunner runner, SagaSettings settings,
           rt::MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(io, pool, runner, std::move(settings), metrics)) {}

Saga::~Saga() {
    stop();
}

void Saga::start() {
    if (impl_->running) {
        return;
    }
    impl_->running = true;
    net::co_spawn(impl_->io, impl_->loop(), net::detached);
}

void Saga::stop() {
    impl_->running = false;
    impl_->timer.cancel();
}

void Saga::wake() {
    impl_->timer.cancel();
}

rt::Task<std::size_t> Saga::runDue() {
    return impl_->runDue();
}

}  // namespace restinu::payment
