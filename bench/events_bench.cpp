// End-to-end event bus throughput and delay: concurrent transactions write events to the
// outbox, one relay publishes them, one consumer group applies them (inbox + a one-row effect),
// all on one loop thread as in one service instance. Prints events/s and the commit → handled
// delay; bench/events_bench.sh runs pgbench beside it for the ratio.
//   events_bench CONNINFO REDIS_PORT SOURCE_DIR [SECONDS] [WRITERS]
#include <algorithm>
#include <boost/asio.hpp>
#include <cstdio>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/bus.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/redis.hpp"

namespace net = boost::asio;
using namespace restinu;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr,
                     "usage: events_bench CONNINFO REDIS_PORT SOURCE_DIR [SECONDS] [WRITERS]\n");
        return 2;
    }
    std::string conninfo = argv[1];
    auto redis_port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    std::string source = argv[3];
    int seconds = argc > 4 ? std::atoi(argv[4]) : 10;
    int writers = argc > 5 ? std::atoi(argv[5]) : 16;

    net::io_context io;
    rt::PgOptions po;
    po.conninfo = conninfo;
    po.size = static_cast<std::size_t>(writers);
    po.name = "writers";
    rt::PgPool pool(io, po);

    // The runtime's migrations, straight from the source tree.
    rt::MigrationSet ms;
    ms.addDir("runtime", source + "/runtime/migrations");
    rt::runBlocking(io, rt::applyMigrations(pool, "runtime", ms.list()));

    rt::PgOptions ro = po;
    ro.size = 2;
    ro.name = "relay";
    rt::PgPool relay_pool(io, ro);
    rt::RedisOptions redis_opts;
    redis_opts.port = redis_port;
    rt::Redis redis(io, redis_opts);
    rt::OutboxRelay relay(io, relay_pool, redis, conninfo);
    ro.name = "consumer";
    rt::PgPool consumer_pool(io, ro);
    rt::ConsumerOptions co;
    co.group = "bench";
    co.aggregate_types = {"bench"};
    co.redis = redis_opts;
    co.block = std::chrono::milliseconds(100);
    std::vector<std::int64_t> delays;
    delays.reserve(1 << 20);
    rt::EventConsumer consumer(io, consumer_pool, co,
                               [&](rt::PgConn&, const rt::Event& e) -> rt::Task<void> {
                                   if (auto t = rt::parseTimestampMicros(e.occurred_at)) {
                                       delays.push_back(rt::nowMicros() - *t);
                                   }
                                   co_return;
                               });
    relay.start();
    consumer.start();

    // Phase 1, throughput: writers as fast as they can for `seconds`, then drain.
    std::uint64_t written = 0;
    bool writing = true;
    std::uint64_t rate_per_writer = 0;  // events/s each writer aims at; 0: as fast as it can
    auto writer = [&](int w) -> rt::Task<void> {
        net::steady_timer pace(co_await net::this_coro::executor);
        auto next = std::chrono::steady_clock::now();
        int i = 0;
        while (writing) {
            if (rate_per_writer > 0) {
                next += std::chrono::microseconds(1'000'000 / rate_per_writer);
                pace.expires_at(next);
                co_await pace.async_wait(net::use_awaitable);
            }
            co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
                co_await rt::enqueueEvent(
                    tx, rt::makeEvent("bench.happened", "bench",
                                      std::to_string(w) + "-" + std::to_string(i++ % 50),
                                      R"({"n":1})"));
            });
            ++written;
        }
    };
    auto phase = [&](int secs) {
        written = 0;
        delays.clear();
        auto handled_before = consumer.handled();
        writing = true;
        auto started = std::chrono::steady_clock::now();
        for (int w = 0; w < writers; ++w) {
            net::co_spawn(io, writer(w), net::detached);
        }
        io.run_for(std::chrono::seconds(secs));
        writing = false;
        auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (consumer.handled() - handled_before < written &&
               std::chrono::steady_clock::now() < drain_deadline) {
            io.run_for(std::chrono::milliseconds(20));
        }
        io.run_for(std::chrono::milliseconds(200));  // let the writers see `writing` is over
        auto handled = consumer.handled() - handled_before;
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::sort(delays.begin(), delays.end());
        return std::pair{handled, elapsed};
    };
    auto pct = [&](double p) {
        if (delays.empty()) {
            return 0.0;
        }
        auto idx = static_cast<std::size_t>(p * static_cast<double>(delays.size() - 1));
        return static_cast<double>(delays[idx]) / 1000.0;
    };

    auto [handled, elapsed] = phase(seconds);
    bool all = handled == written;
    double eps = static_cast<double>(handled) / elapsed;
    std::printf("saturated: written %llu handled %llu in %.2f s (until drained)\n",
                static_cast<unsigned long long>(written), static_cast<unsigned long long>(handled),
                elapsed);
    std::printf("events_per_second %.0f\n", eps);

    // Phase 2, delay: a steady load at half that rate, where queues stay short.
    rate_per_writer = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(eps / 2 / static_cast<double>(writers)));
    auto [handled2, elapsed2] = phase(std::max(3, seconds / 2));
    all = all && handled2 == written;
    std::printf(
        "steady load %llu events/s: handled %llu, commit -> handled delay ms p50 %.2f "
        "p99 %.2f max %.2f\n",
        static_cast<unsigned long long>(rate_per_writer * writers),
        static_cast<unsigned long long>(handled2), pct(0.5), pct(0.99), pct(1.0));
    (void)elapsed2;
    consumer.stop();
    relay.stop();
    io.run_for(std::chrono::milliseconds(300));
    pool.close();
    relay_pool.close();
    consumer_pool.close();
    return all ? 0 : 1;
}
