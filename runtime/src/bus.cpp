#include "restinu/rt/bus.hpp"

#include <boost/asio.hpp>
#include <random>
#include <unordered_set>

#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_listener.hpp"

namespace restinu::rt {

namespace net = boost::asio;

namespace {

constexpr auto kTok = net::as_tuple(net::use_awaitable);
using Clock = std::chrono::steady_clock;
using Fields = std::vector<std::pair<std::string, std::string>>;

// The oldest unpublished row of each aggregate, skipping rows another relay holds. A row whose
// aggregate has an older unpublished row (even one locked by another relay) waits its turn.
constexpr std::string_view kBatchSql = R"sql(
SELECT o.seq, o.id::text, o.type, o.schema_version,
       to_char(o.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       o.aggregate_type, o.aggregate_id, o.trace_id, o.data::text
FROM restinu_outbox o
WHERE o.published_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM restinu_outbox p
                  WHERE p.published_at IS NULL AND p.aggregate_type = o.aggregate_type
                    AND p.aggregate_id = o.aggregate_id AND p.seq < o.seq)
ORDER BY o.seq
LIMIT $1
FOR UPDATE OF o SKIP LOCKED)sql";

Task<void> sleepFor(net::steady_timer& t, std::chrono::milliseconds d) {
    t.expires_after(d);
    co_await t.async_wait(kTok);
}

std::chrono::milliseconds jittered(std::chrono::milliseconds base, int attempt,
                                   std::chrono::milliseconds cap) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto exp = base * (1LL << std::min(attempt, 20));
    auto top = std::min<std::chrono::milliseconds>(exp, cap);
    std::uniform_int_distribution<long long> d(top.count() / 2,
                                               std::max<long long>(1, top.count()));
    return std::chrono::milliseconds(d(rng));
}

Fields pairsOf(const RedisReply& flat) {
    Fields out;
    for (std::size_t i = 0; i + 1 < flat.elements.size(); i += 2) {
        out.emplace_back(flat.elements[i].str, flat.elements[i + 1].str);
    }
    return out;
}

struct Entry {
    std::string stream;
    std::string id;
    Fields fields;
    bool deleted = false;  // trimmed away while pending
};

void collectEntries(const std::string& stream, const RedisReply& entries, std::vector<Entry>& out) {
    for (const auto& e : entries.elements) {
        if (e.elements.size() < 2) {
            continue;
        }
        Entry entry{stream, e.elements[0].str, {}, false};
        if (e.elements[1].isNil()) {
            entry.deleted = true;
        } else {
            entry.fields = pairsOf(e.elements[1]);
        }
        out.push_back(std::move(entry));
    }
}

std::string errorText(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown error";
    }
}

std::vector<std::string> xaddCommand(const std::string& stream, std::size_t maxlen,
                                     const Fields& fields) {
    std::vector<std::string> cmd{"XADD", stream};
    if (maxlen > 0) {
        cmd.insert(cmd.end(), {"MAXLEN", "~", std::to_string(maxlen)});
    }
    cmd.emplace_back("*");
    for (const auto& [k, v] : fields) {
        cmd.push_back(k);
        cmd.push_back(v);
    }
    return cmd;
}

}  // namespace

std::string replayStreamFor(std::string_view group) {
    return "replay:" + std::string(group);
}
std::string deadLetterStreamFor(std::string_view group) {
    return "deadletter:" + std::string(group);
}

// ------------------------------------------------------------------------------------------
// Relay

struct OutboxRelay::Impl : std::enable_shared_from_this<OutboxRelay::Impl> {
    net::io_context& io;
    PgPool& pool;
    Redis& redis;
    std::string listen_conninfo;
    RelayOptions opts;
    std::unique_ptr<PgListener> listener;
    net::steady_timer wake;
    bool stopped = false;
    bool running = false;
    bool notified = false;
    std::uint64_t published_count = 0;
    Clock::time_point next_housekeeping{};
    Counter* published_metric = nullptr;
    Counter* error_metric = nullptr;
    Histogram* delay_metric = nullptr;
    Gauge* backlog_metric = nullptr;

    Impl(net::io_context& io_, PgPool& p, Redis& r, std::string conninfo, RelayOptions o,
         MetricsRegistry* m)
        : io(io_),
          pool(p),
          redis(r),
          listen_conninfo(std::move(conninfo)),
          opts(std::move(o)),
          wake(io_) {
        if (m != nullptr) {
            published_metric = &m->counter("restinu_bus_published_total",
                                           "Outbox events published to Redis Streams", {"relay"})
                                    .labels({opts.name});
            error_metric = &m->counter("restinu_bus_relay_errors_total",
                                       "Relay batches that failed and were retried", {"relay"})
                                .labels({opts.name});
            delay_metric =
                &m->histogram("restinu_bus_publish_delay_seconds",
                              "From an event's occurred_at to its publication", {"relay"})
                     .labels({opts.name});
            backlog_metric = &m->gauge("restinu_bus_outbox_backlog",
                                       "Outbox events not yet published", {"relay"})
                                  .labels({opts.name});
        }
    }

    Task<std::size_t> publishOnce() {
        std::size_t n = 0;
        std::vector<std::int64_t> delays;
        co_await pool.transaction([&](PgConn& tx) -> Task<void> {
            auto rows = co_await tx.execute("restinu_relay_batch", kBatchSql,
                                            static_cast<std::int64_t>(opts.batch));
            if (rows.rows() == 0) {
                co_return;
            }
            std::vector<std::vector<std::string>> cmds;
            cmds.reserve(rows.rows());
            std::string seqs = "{";
            auto now = nowMicros();
            for (std::size_t i = 0; i < rows.rows(); ++i) {
                Event e;
                e.id = rows.get(i, 1);
                e.type = rows.get(i, 2);
                e.schema_version = static_cast<int>(rows.getInt(i, 3));
                e.occurred_at = rows.get(i, 4);
                e.aggregate_type = rows.get(i, 5);
                e.aggregate_id = rows.get(i, 6);
                e.trace_id = rows.get(i, 7);
                e.data = rows.get(i, 8);
                cmds.push_back(
                    xaddCommand(streamFor(e.aggregate_type), opts.stream_maxlen, toFields(e)));
                if (i > 0) {
                    seqs += ',';
                }
                seqs += rows.get(i, 0);
                if (auto t = parseTimestampMicros(e.occurred_at)) {
                    delays.push_back(now - *t);
                }
            }
            seqs += '}';
            auto replies = co_await redis.pipeline(std::move(cmds));
            for (const auto& r : replies) {
                if (r.isError()) {
                    throw std::runtime_error("XADD refused: " + r.str);
                }
            }
            co_await tx.execute("restinu_relay_mark",
                                "UPDATE restinu_outbox SET published_at = now() "
                                "WHERE seq = ANY($1::bigint[])",
                                seqs);
            n = rows.rows();
        });
        published_count += n;
        if (published_metric != nullptr && n > 0) {
            published_metric->inc(n);
            for (auto d : delays) {
                delay_metric->observe(static_cast<double>(d) / 1e6);
            }
        }
        co_return n;
    }

    Task<std::int64_t> backlog() {
        auto r =
            co_await pool.query("SELECT count(*) FROM restinu_outbox WHERE published_at IS NULL");
        co_return r.getInt(0, 0);
    }

    Task<void> housekeeping() {
        auto now = Clock::now();
        if (now < next_housekeeping) {
            co_return;
        }
        next_housekeeping = now + std::chrono::seconds(1);
        auto b = co_await backlog();
        if (backlog_metric != nullptr) {
            backlog_metric->set(static_cast<double>(b));
        }
        auto retention_s = std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(opts.outbox_retention).count());
        co_await pool.query(
            "DELETE FROM restinu_outbox WHERE seq IN (SELECT seq FROM restinu_outbox "
            "WHERE published_at < now() - make_interval(secs => $1::double precision) "
            "LIMIT 10000)",
            retention_s);
    }

    Task<void> run() {
        auto self = shared_from_this();
        int failures = 0;
        while (!stopped) {
            std::string error;
            try {
                auto n = co_await publishOnce();
                failures = 0;
                co_await housekeeping();
                if (n > 0) {
                    // More may wait: a batch holds one row per aggregate, so an aggregate's
                    // next event becomes eligible only now.
                    continue;
                }
            } catch (const std::exception& e) {
                error = e.what();
            }
            if (!error.empty()) {
                if (stopped) {
                    break;
                }
                if (error_metric != nullptr) {
                    error_metric->inc();
                }
                if (failures++ == 0) {
                    log::warn("bus", "relay batch failed; retrying",
                              {{"relay", opts.name}, {"error", error}});
                }
                co_await sleepFor(wake, jittered(std::chrono::milliseconds(100), failures,
                                                 std::chrono::seconds(2)));
                continue;
            }
            if (notified) {
                notified = false;
                continue;
            }
            co_await sleepFor(wake, opts.poll_interval);
            notified = false;
        }
        running = false;
    }
};

OutboxRelay::OutboxRelay(IoContext& io, PgPool& pool, Redis& redis, std::string listen_conninfo,
                         RelayOptions opts, MetricsRegistry* metrics)
    : impl_(std::make_shared<Impl>(io, pool, redis, std::move(listen_conninfo), std::move(opts),
                                   metrics)) {}

OutboxRelay::~OutboxRelay() {
    stop();
}

void OutboxRelay::start() {
    if (impl_->running) {
        return;
    }
    impl_->running = true;
    impl_->stopped = false;
    std::weak_ptr<Impl> weak = impl_;
    auto wake_up = [weak] {
        if (auto impl = weak.lock()) {
            impl->notified = true;
            impl->wake.cancel();
        }
    };
    impl_->listener = std::make_unique<PgListener>(
        impl_->io, impl_->listen_conninfo, std::vector<std::string>{"restinu_outbox"},
        [wake_up](std::string_view, std::string_view) { wake_up(); });
    // Notifications sent while the listener was away are lost: rescan when it is back.
    impl_->listener->setOnReconnect(wake_up);
    impl_->listener->start();
    net::co_spawn(impl_->io, impl_->run(), [](const std::exception_ptr& e) {
        if (e) {
            log::error("bus", "relay stopped by an error", {{"error", errorText(e)}});
        }
    });
}

void OutboxRelay::stop() {
    impl_->stopped = true;
    impl_->wake.cancel();
    if (impl_->listener) {
        impl_->listener->stop();
    }
}

Task<std::size_t> OutboxRelay::publishOnce() {
    return impl_->publishOnce();
}
Task<std::int64_t> OutboxRelay::backlog() {
    return impl_->backlog();
}
std::uint64_t OutboxRelay::published() const {
    return impl_->published_count;
}

// ------------------------------------------------------------------------------------------
// Consumer

struct EventConsumer::Impl : std::enable_shared_from_this<EventConsumer::Impl> {
    net::io_context& io;
    PgPool& pool;
    ConsumerOptions opts;
    EventHandler handler;
    Redis redis;
    net::steady_timer timer;
    std::vector<std::string> streams;
    bool stopped = false;
    bool running = false;
    std::uint64_t handled_count = 0;
    std::uint64_t duplicate_count = 0;
    std::uint64_t dead_count = 0;
    Counter* applied_metric = nullptr;
    Counter* duplicate_metric = nullptr;
    Counter* retry_metric = nullptr;
    Counter* dead_metric = nullptr;
    Histogram* delay_metric = nullptr;

    static RedisOptions redisOptions(const ConsumerOptions& o) {
        auto r = o.redis;
        r.name = "consumer-" + o.group;
        // XREADGROUP BLOCK holds the connection for `block`; give the reply time beyond it.
        r.command_timeout = std::max(r.command_timeout, o.block + std::chrono::seconds(5));
        return r;
    }

    Impl(net::io_context& io_, PgPool& p, ConsumerOptions o, EventHandler h, MetricsRegistry* m)
        : io(io_),
          pool(p),
          opts(std::move(o)),
          handler(std::move(h)),
          redis(io_, redisOptions(opts), m),
          timer(io_) {
        for (const auto& t : opts.aggregate_types) {
            streams.push_back(streamFor(t));
        }
        streams.push_back(replayStreamFor(opts.group));
        if (m != nullptr) {
            auto& handled =
                m->counter("restinu_bus_handled_total",
                           "Events a consumer group finished, by outcome", {"group", "outcome"});
            applied_metric = &handled.labels({opts.group, "applied"});
            duplicate_metric = &handled.labels({opts.group, "duplicate"});
            dead_metric = &handled.labels({opts.group, "dead_letter"});
            retry_metric = &m->counter("restinu_bus_redeliveries_total",
                                       "Deliveries of an event after its first: retries after a "
                                       "failure and redeliveries the inbox recognised",
                                       {"group"})
                                .labels({opts.group});
            delay_metric =
                &m->histogram("restinu_bus_handle_delay_seconds",
                              "From an event's occurred_at to its effect's commit", {"group"})
                     .labels({opts.group});
        }
    }

    Task<void> ensureGroups() {
        for (const auto& s : streams) {
            auto r = co_await redis.call("XGROUP", "CREATE", s, opts.group, "0", "MKSTREAM");
            if (r.isError() && r.str.rfind("BUSYGROUP", 0) != 0) {
                throw std::runtime_error("XGROUP CREATE " + s + ": " + r.str);
            }
        }
    }

    Task<void> ack(const Entry& e) {
        try {
            co_await redis.call("XACK", e.stream, opts.group, e.id);
        } catch (const std::exception& ex) {
            // The effect is committed; the entry stays pending and comes back to the inbox.
            log::warn("bus", "ack failed; the entry will be redelivered",
                      {{"group", opts.group}, {"entry", e.id}, {"error", ex.what()}});
        }
    }

    Task<void> deadLetter(const Entry& entry, const std::string& error, int attempts) {
        auto fields = entry.fields;
        fields.emplace_back("error", error);
        fields.emplace_back("attempts", std::to_string(attempts));
        fields.emplace_back("source_stream", entry.stream);
        fields.emplace_back("source_id", entry.id);
        auto r = co_await redis.command(xaddCommand(deadLetterStreamFor(opts.group), 0, fields));
        if (r.isError()) {
            throw std::runtime_error("XADD dead letter: " + r.str);
        }
        ++dead_count;
        if (dead_metric != nullptr) {
            dead_metric->inc();
        }
        log::warn(
            "bus", "event moved to the dead-letter stream",
            {{"group", opts.group}, {"entry", entry.id}, {"attempts", attempts}, {"error", error}});
        co_await ack(entry);
    }

    static bool transient(const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const PgError& pe) {
            return pe.kind() == PgError::Kind::Connection ||
                   pe.kind() == PgError::Kind::PoolTimeout;
        } catch (...) {
            return false;
        }
    }

    Task<void> handleEntry(const Entry& entry) {
        if (entry.deleted) {
            // Trimmed (MAXLEN) while still pending: the event is gone from the stream. Leave a
            // trace instead of acknowledging silently; the outbox still has it for republish.
            co_await deadLetter(entry,
                                "trimmed from the stream before it was handled; raise "
                                "bus.stream_maxlen and republish it from the outbox",
                                0);
            co_return;
        }
        Event event;
        std::string malformed;
        try {
            event = fromFields(entry.fields);
        } catch (const std::exception& e) {
            malformed = e.what();
        }
        if (!malformed.empty()) {
            co_await deadLetter(entry, "malformed event: " + malformed, 0);
            co_return;
        }
        bool failed_before = false;
        int transient_failures = 0;
        while (!stopped) {
            std::exception_ptr error;
            bool applied = false;
            try {
                co_await pool.transaction([&](PgConn& tx) -> Task<void> {
                    auto r = co_await tx.execute(
                        "restinu_inbox_insert",
                        "INSERT INTO restinu_inbox (consumer_group, event_id) VALUES ($1, $2) "
                        "ON CONFLICT DO NOTHING",
                        opts.group, event.id);
                    if (r.affected() == 0) {
                        co_return;  // applied before: a redelivery
                    }
                    co_await handler(tx, event);
                    applied = true;
                });
            } catch (...) {
                error = std::current_exception();
            }
            if (!error) {
                countOutcome(applied, event, nowMicros());
                if (applied && opts.after_commit) {
                    opts.after_commit(event);
                }
                if (opts.after_commit_for_test) {
                    opts.after_commit_for_test(event);
                }
                co_await ack(entry);
                if (failed_before) {
                    try {
                        co_await pool.query(
                            "DELETE FROM restinu_event_failures "
                            "WHERE consumer_group = $1 AND event_id = $2",
                            opts.group, event.id);
                    } catch (const std::exception&) {
                        // Only bookkeeping: a stale row is harmless.
                    }
                }
                co_return;
            }
            if (stopped) {
                co_return;  // left pending: redelivered after restart
            }
            auto text = errorText(error);
            if (retry_metric != nullptr) {
                retry_metric->inc();
            }
            if (transient(error)) {
                // The database is away: not the event's fault, do not count it.
                co_await sleepFor(
                    timer, jittered(opts.backoff_base, ++transient_failures, opts.backoff_max));
                continue;
            }
            int attempts = 0;
            bool recorded = false;
            try {
                auto r = co_await pool.query(
                    "INSERT INTO restinu_event_failures "
                    "(consumer_group, event_id, attempts, last_error) VALUES ($1, $2, 1, $3) "
                    "ON CONFLICT (consumer_group, event_id) DO UPDATE SET "
                    "attempts = restinu_event_failures.attempts + 1, last_error = $3, "
                    "last_failed_at = now() RETURNING attempts",
                    opts.group, event.id, text);
                attempts = static_cast<int>(r.getInt(0, 0));
                recorded = true;
            } catch (const std::exception&) {
                recorded = false;  // the database is away: retry without counting
            }
            if (!recorded) {
                co_await sleepFor(
                    timer, jittered(opts.backoff_base, ++transient_failures, opts.backoff_max));
                continue;
            }
            failed_before = true;
            if (attempts >= opts.max_attempts) {
                co_await deadLetter(entry, text, attempts);
                co_return;
            }
            log::info("bus", "handler failed; will retry",
                      {{"group", opts.group},
                       {"event", event.id},
                       {"attempt", attempts},
                       {"error", text}});
            co_await sleepFor(timer, jittered(opts.backoff_base, attempts, opts.backoff_max));
        }
    }

    // XREADGROUP from `id` ("0": this consumer's pending entries, ">": new ones).
    Task<std::size_t> readAndHandle(const std::string& id, bool block) {
        std::vector<std::string> cmd{"XREADGROUP",  "GROUP", opts.group,
                                     opts.consumer, "COUNT", std::to_string(opts.batch)};
        if (block) {
            cmd.emplace_back("BLOCK");
            cmd.push_back(std::to_string(opts.block.count()));
        }
        cmd.emplace_back("STREAMS");
        for (const auto& s : streams) {
            cmd.push_back(s);
        }
        for (std::size_t i = 0; i < streams.size(); ++i) {
            cmd.push_back(id);
        }
        auto reply = co_await redis.command(std::move(cmd));
        if (reply.isError()) {
            if (reply.str.rfind("NOGROUP", 0) == 0) {
                co_await ensureGroups();  // Redis lost its data: recreate and go on
                co_return 0;
            }
            throw std::runtime_error("XREADGROUP: " + reply.str);
        }
        std::vector<Entry> entries;
        for (const auto& s : reply.elements) {
            if (s.elements.size() == 2) {
                collectEntries(s.elements[0].str, s.elements[1], entries);
            }
        }
        co_await handleBatch(entries);
        co_return entries.size();
    }

    // The common case: the whole batch in one transaction (one commit) and one XACK per stream.
    // Anything unusual (a trimmed or malformed entry, any failure) rolls the batch back and
    // falls back to one entry at a time, which isolates the failing event.
    Task<void> handleBatch(const std::vector<Entry>& entries) {
        bool regular = entries.size() > 1;
        std::vector<Event> events;
        if (regular) {
            events.reserve(entries.size());
            try {
                for (const auto& e : entries) {
                    if (e.deleted) {
                        regular = false;
                        break;
                    }
                    events.push_back(fromFields(e.fields));
                }
            } catch (const std::exception&) {
                regular = false;
            }
        }
        bool done = false;
        if (regular) {
            std::vector<bool> applied(entries.size(), false);
            try {
                // One round trip records the whole batch in the inbox and says which events
                // are new; only those reach the handler.
                std::string ids = "{";
                for (std::size_t i = 0; i < events.size(); ++i) {
                    ids += i == 0 ? "" : ",";
                    ids += events[i].id;
                }
                ids += '}';
                co_await pool.transaction([&](PgConn& tx) -> Task<void> {
                    auto fresh =
                        co_await tx.execute("restinu_inbox_insert_batch",
                                            "INSERT INTO restinu_inbox (consumer_group, event_id) "
                                            "SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING "
                                            "RETURNING event_id::text",
                                            opts.group, ids);
                    std::unordered_set<std::string_view> is_new;
                    for (std::size_t r = 0; r < fresh.rows(); ++r) {
                        is_new.insert(fresh.get(r, 0));
                    }
                    for (std::size_t i = 0; i < events.size(); ++i) {
                        // erase: an event published twice may sit twice in one batch
                        if (is_new.erase(events[i].id) != 0) {
                            applied[i] = true;
                            co_await handler(tx, events[i]);
                        }
                    }
                });
                done = true;
            } catch (const std::exception&) {
                done = false;  // handled one by one below, with retries and dead letters
            }
            if (done) {
                auto now = nowMicros();
                for (std::size_t i = 0; i < events.size(); ++i) {
                    countOutcome(applied[i], events[i], now);
                    if (applied[i] && opts.after_commit) {
                        opts.after_commit(events[i]);
                    }
                    if (opts.after_commit_for_test) {
                        opts.after_commit_for_test(events[i]);
                    }
                }
                co_await ackAll(entries);
            }
        }
        if (!done) {
            for (const auto& e : entries) {
                if (stopped) {
                    break;
                }
                co_await handleEntry(e);
            }
        }
    }

    void countOutcome(bool applied, const Event& event, std::int64_t now) {
        if (applied) {
            ++handled_count;
            if (applied_metric != nullptr) {
                applied_metric->inc();
                if (auto t = parseTimestampMicros(event.occurred_at)) {
                    delay_metric->observe(static_cast<double>(now - *t) / 1e6);
                }
            }
        } else {
            ++duplicate_count;
            if (duplicate_metric != nullptr) {
                duplicate_metric->inc();
                retry_metric->inc();
            }
        }
    }

    Task<void> ackAll(const std::vector<Entry>& entries) {
        for (const auto& stream : streams) {
            std::vector<std::string> cmd{"XACK", stream, opts.group};
            for (const auto& e : entries) {
                if (e.stream == stream) {
                    cmd.push_back(e.id);
                }
            }
            if (cmd.size() == 3) {
                continue;
            }
            try {
                co_await redis.command(std::move(cmd));
            } catch (const std::exception& ex) {
                log::warn("bus", "ack failed; the entries will be redelivered",
                          {{"group", opts.group}, {"error", ex.what()}});
            }
        }
    }

    // Takes over entries another (crashed) consumer left pending for longer than claim_idle.
    Task<void> claimStale() {
        for (const auto& s : streams) {
            std::string cursor = "0-0";
            for (int round = 0; round < 100 && !stopped; ++round) {
                auto r = co_await redis.call("XAUTOCLAIM", s, opts.group, opts.consumer,
                                             std::to_string(opts.claim_idle.count()), cursor,
                                             "COUNT", std::to_string(opts.batch));
                if (r.isError() || r.elements.size() < 2) {
                    break;
                }
                std::vector<Entry> entries;
                collectEntries(s, r.elements[1], entries);
                if (retry_metric != nullptr) {
                    retry_metric->inc(entries.size());
                }
                co_await handleBatch(entries);
                cursor = r.elements[0].str;
                if (cursor == "0-0") {
                    break;
                }
            }
        }
    }

    Task<void> run() {
        auto self = shared_from_this();
        int failures = 0;
        bool recovered_own = false;
        auto next_claim = Clock::now();
        while (!stopped) {
            try {
                if (!recovered_own) {
                    co_await ensureGroups();
                    while (!stopped && co_await readAndHandle("0", false) > 0) {
                    }
                    recovered_own = true;
                }
                if (Clock::now() >= next_claim) {
                    co_await claimStale();
                    next_claim = Clock::now() +
                                 std::max(opts.claim_idle / 2, std::chrono::milliseconds(100));
                }
                co_await readAndHandle(">", true);
                failures = 0;
                continue;
            } catch (const std::exception& e) {
                if (!stopped && failures == 0) {
                    log::warn("bus", "consumer read failed; retrying",
                              {{"group", opts.group}, {"error", e.what()}});
                }
            }
            if (stopped) {
                break;
            }
            ++failures;
            recovered_own = false;
            co_await sleepFor(
                timer, jittered(std::chrono::milliseconds(50), failures, std::chrono::seconds(2)));
        }
        running = false;
    }
};

EventConsumer::EventConsumer(IoContext& io, PgPool& pool, ConsumerOptions opts,
                             EventHandler handler, MetricsRegistry* metrics)
    : impl_(std::make_shared<Impl>(io, pool, std::move(opts), std::move(handler), metrics)) {}

EventConsumer::~EventConsumer() {
    stop();
}

void EventConsumer::start() {
    if (impl_->running) {
        return;
    }
    impl_->running = true;
    impl_->stopped = false;
    net::co_spawn(impl_->io, impl_->run(), [](const std::exception_ptr& e) {
        if (e) {
            log::error("bus", "consumer stopped by an error", {{"error", errorText(e)}});
        }
    });
}

void EventConsumer::stop() {
    impl_->stopped = true;
    impl_->timer.cancel();
    impl_->redis.close();
}

std::uint64_t EventConsumer::handled() const {
    return impl_->handled_count;
}
std::uint64_t EventConsumer::duplicates() const {
    return impl_->duplicate_count;
}
std::uint64_t EventConsumer::deadLettered() const {
    return impl_->dead_count;
}

// ------------------------------------------------------------------------------------------
// Operator tooling

Task<std::vector<StreamInfo>> listStreams(Redis& redis) {
    std::vector<StreamInfo> out;
    for (const char* pattern : {"events:*", "replay:*", "deadletter:*"}) {
        std::string cursor = "0";
        do {
            auto r = co_await redis.call("SCAN", cursor, "MATCH", pattern, "COUNT", "200", "TYPE",
                                         "stream");
            if (r.isError() || r.elements.size() < 2) {
                throw std::runtime_error("SCAN: " + r.str);
            }
            cursor = r.elements[0].str;
            for (const auto& key : r.elements[1].elements) {
                StreamInfo info;
                info.stream = key.str;
                info.length = (co_await redis.call("XLEN", key.str)).integer;
                auto groups = co_await redis.call("XINFO", "GROUPS", key.str);
                for (const auto& g : groups.elements) {
                    StreamInfo::Group group;
                    for (std::size_t i = 0; i + 1 < g.elements.size(); i += 2) {
                        const auto& k = g.elements[i].str;
                        const auto& v = g.elements[i + 1];
                        if (k == "name") {
                            group.name = v.str;
                        } else if (k == "pending") {
                            group.pending = v.integer;
                        } else if (k == "lag") {
                            group.lag = v.isNil() ? -1 : v.integer;
                        } else if (k == "consumers") {
                            group.consumers = v.integer;
                        }
                    }
                    info.groups.push_back(std::move(group));
                }
                out.push_back(std::move(info));
            }
        } while (cursor != "0");
    }
    std::sort(out.begin(), out.end(),
              [](const StreamInfo& a, const StreamInfo& b) { return a.stream < b.stream; });
    co_return out;
}

Task<std::vector<DeadLetter>> listDeadLetters(Redis& redis, std::string_view group,
                                              std::size_t limit) {
    auto r = co_await redis.call("XRANGE", deadLetterStreamFor(group), "-", "+", "COUNT",
                                 std::to_string(limit));
    if (r.isError()) {
        throw std::runtime_error("XRANGE: " + r.str);
    }
    std::vector<DeadLetter> out;
    std::vector<Entry> entries;
    collectEntries(deadLetterStreamFor(group), r, entries);
    for (auto& e : entries) {
        DeadLetter d;
        d.entry_id = e.id;
        Fields event_fields;
        for (auto& [k, v] : e.fields) {
            if (k == "error") {
                d.error = v;
            } else if (k == "attempts") {
                d.attempts = std::atoi(v.c_str());
            } else if (k == "source_stream") {
                d.source_stream = v;
            } else if (k != "source_id") {
                event_fields.emplace_back(k, v);
            }
        }
        try {
            d.event = fromFields(event_fields);
        } catch (const std::exception&) {
            // A malformed event is still listed, with what it had.
        }
        out.push_back(std::move(d));
    }
    co_return out;
}

Task<std::size_t> replayDeadLetters(Redis& redis, std::string_view group,
                                    const std::vector<std::string>& entry_ids,
                                    PgPool* failures_db) {
    auto all = co_await listDeadLetters(redis, group, 100000);
    std::size_t n = 0;
    for (const auto& d : all) {
        if (!entry_ids.empty() &&
            std::find(entry_ids.begin(), entry_ids.end(), d.entry_id) == entry_ids.end()) {
            continue;
        }
        if (d.event.id.empty()) {
            // Malformed or trimmed: nothing a consumer could handle; it stays for a human.
            log::warn("bus", "dead letter without a valid event is not replayed",
                      {{"group", group}, {"entry", d.entry_id}, {"error", d.error}});
            continue;
        }
        if (failures_db != nullptr) {
            co_await failures_db->query(
                "DELETE FROM restinu_event_failures WHERE consumer_group = $1 AND event_id = $2",
                std::string(group), d.event.id);
        }
        auto add =
            co_await redis.command(xaddCommand(replayStreamFor(group), 0, toFields(d.event)));
        if (add.isError()) {
            throw std::runtime_error("XADD replay: " + add.str);
        }
        co_await redis.call("XDEL", deadLetterStreamFor(group), d.entry_id);
        ++n;
    }
    co_return n;
}

Task<std::size_t> replayRange(Redis& redis, std::string_view group, std::string_view stream,
                              std::string_view from, std::string_view to) {
    if (stream == replayStreamFor(group)) {
        throw std::invalid_argument("replaying a group's replay stream into itself never ends");
    }
    std::size_t n = 0;
    std::string start(from);
    for (;;) {
        auto r = co_await redis.call("XRANGE", std::string(stream), start, std::string(to), "COUNT",
                                     "500");
        if (r.isError()) {
            throw std::runtime_error("XRANGE: " + r.str);
        }
        std::vector<Entry> entries;
        collectEntries(std::string(stream), r, entries);
        if (entries.empty()) {
            break;
        }
        std::vector<std::vector<std::string>> cmds;
        cmds.reserve(entries.size());
        for (const auto& e : entries) {
            cmds.push_back(xaddCommand(replayStreamFor(group), 0, e.fields));
        }
        auto replies = co_await redis.pipeline(std::move(cmds));
        for (const auto& rep : replies) {
            if (rep.isError()) {
                throw std::runtime_error("XADD replay: " + rep.str);
            }
        }
        n += entries.size();
        if (entries.size() < 500) {
            break;
        }
        start = "(" + entries.back().id;  // exclusive: after the last one copied
    }
    co_return n;
}

}  // namespace restinu::rt
