#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "async_test.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pg.hpp"
#include "test_env.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using testing::runAsync;
using testing::sleepFor;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string uniqueSuffix() {
    std::random_device rd;
    return std::to_string(rd() % 1'000'000'000u);
}

PgOptions options(std::size_t size, const std::string& app_name) {
    PgOptions o;
    o.conninfo = testenv::pgConninfo() + " application_name=" + app_name;
    o.name = app_name;
    o.size = size;
    o.connect_timeout = 3s;
    o.acquire_timeout = 5s;
    o.query_timeout = 10s;
    return o;
}

/// Counts spawned coroutines down to zero.
class WaitGroup {
public:
    explicit WaitGroup(net::io_context& io) : timer_(io, net::steady_timer::time_point::max()) {}
    void add(int n = 1) { pending_ += n; }
    void done() {
        if (--pending_ == 0) {
            timer_.cancel();
        }
    }
    Task<void> wait() {
        while (pending_ > 0) {
            co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
        }
    }

private:
    net::steady_timer timer_;
    int pending_ = 0;
};

/// Runs a blocking function on another thread; the loop keeps running while it does.
Task<int> offThread(std::function<int()> fn) {
    std::atomic<bool> done{false};
    int rc = -1;
    std::thread th([&] {
        rc = fn();
        done = true;
    });
    while (!done) {
        co_await sleepFor(10ms);
    }
    th.join();
    co_return rc;
}

// ---------------------------------------------------------------------------------------------

struct Tally {
    int ok = 0;
    int wrong = 0;
    int failed = 0;
    std::size_t max_total = 0;
    std::size_t max_waiting = 0;
    std::string last_error;
};

Task<void> addOne(PgPool& pool, int i, Tally& t, WaitGroup& wg) {
    try {
        if (i % 50 == 0) {
            auto r = co_await pool.query("SELECT pg_sleep(0.001), $1::int", i);
            (r.getInt(0, 1) == i ? t.ok : t.wrong)++;
        } else {
            auto r = co_await pool.query("SELECT $1::int + 1", i);
            (r.getInt(0, 0) == i + 1 ? t.ok : t.wrong)++;
        }
    } catch (const std::exception& e) {
        ++t.failed;
        t.last_error = e.what();
    }
    const auto s = pool.stats();
    t.max_total = std::max(t.max_total, s.total);
    t.max_waiting = std::max(t.max_waiting, s.waiting);
    wg.done();
}

TEST(PgPool, ThousandConcurrentQueriesShareEightConnections) {
    const auto started = Clock::now();
    MetricsRegistry metrics;
    runAsync([&](net::io_context& io) -> Task<void> {
        const std::string app = "pgt_many_" + uniqueSuffix();
        PgPool pool(io, options(8, app), &metrics);
        Tally t;
        WaitGroup wg(io);
        constexpr int kQueries = 1000;
        wg.add(kQueries);
        for (int i = 0; i < kQueries; ++i) {
            net::co_spawn(io, addOne(pool, i, t, wg), net::detached);
        }
        co_await wg.wait();

        EXPECT_EQ(t.ok, kQueries) << "wrong=" << t.wrong << " failed=" << t.failed << " "
                                  << t.last_error;
        EXPECT_LE(t.max_total, 8u);
        EXPECT_GT(t.max_waiting, 0u) << "the pool was never saturated";
        EXPECT_LE(pool.connectsTotal(), 8u);
        auto r = co_await pool.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app);
        EXPECT_GE(r.getInt(0, 0), 1);
        EXPECT_LE(r.getInt(0, 0), 8);
        auto s = pool.stats();
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_EQ(s.waiting, 0u);
        EXPECT_EQ(s.idle, s.total);
    });
    const std::string text = metrics.render();
    EXPECT_NE(text.find("restinu_pg_queries_total{pool=\"pgt_many_"), std::string::npos);
    EXPECT_NE(text.find("outcome=\"ok\"} 1001"), std::string::npos) << text;
    EXPECT_NE(text.find("restinu_pg_query_duration_seconds_count"), std::string::npos);
    EXPECT_NE(text.find("restinu_pg_pool_connections"), std::string::npos);
    // The pool is gone: its gauges went back to zero.
    EXPECT_EQ(text.find("state=\"idle\"} 1"), std::string::npos) << text;
    std::printf("[pg] 1000 queries in %lld ms\n",
                static_cast<long long>((Clock::now() - started) / 1ms));
}

Task<void> streamUntil(PgPool& pool, const std::atomic<bool>& stop, Tally& t, int& conn_errors) {
    while (!stop) {
        try {
            auto r = co_await pool.query("SELECT $1::int * 2", 21);
            (r.getInt(0, 0) == 42 ? t.ok : t.wrong)++;
        } catch (const PgError& e) {
            if (e.kind() == PgError::Kind::Connection) {
                ++conn_errors;
            } else {
                ++t.failed;
                t.last_error = e.what();
            }
        }
        co_await sleepFor(5ms);
    }
}

TEST(PgPool, RecoversAfterServerRestartMidStream) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgPool pool(io, options(4, "pgt_restart_" + uniqueSuffix()));
        co_await pool.ping();

        std::atomic<bool> stop{false};
        Tally during;
        int conn_errors = 0;
        WaitGroup wg(io);
        wg.add(2);
        net::co_spawn(
            io,
            [](PgPool& p, std::atomic<bool>& s, Tally& t, int& ce, WaitGroup& w) -> Task<void> {
                co_await streamUntil(p, s, t, ce);
                w.done();
            }(pool, stop, during, conn_errors, wg),
            net::detached);
        net::co_spawn(
            io,
            [](std::atomic<bool>& s, WaitGroup& w) -> Task<void> {
                co_await sleepFor(100ms);
                const int rc = co_await offThread([] { return testenv::restartPg(); });
                EXPECT_EQ(rc, 0) << "restart script failed";
                s = true;
                w.done();
            }(stop, wg),
            net::detached);
        co_await wg.wait();

        EXPECT_GT(during.ok, 0);
        EXPECT_EQ(during.failed, 0) << during.last_error;  // only Connection errors allowed
        std::printf("[pg] during restart: %d ok, %d connection errors\n", during.ok, conn_errors);

        int after_ok = 0;
        for (int i = 0; i < 100; ++i) {
            try {
                auto r = co_await pool.query("SELECT $1::int", i);
                after_ok += r.getInt(0, 0) == i ? 1 : 0;
            } catch (const std::exception& e) {
                ADD_FAILURE() << "query " << i << " after restart failed: " << e.what();
            }
        }
        EXPECT_EQ(after_ok, 100);
    });
}

TEST(PgPool, IdleConnectionsClosedByRestartAreReplacedWithoutFailures) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgPool pool(io, options(4, "pgt_idle_" + uniqueSuffix()));
        {
            // Open all four connections, then let them sit idle.
            auto a = co_await pool.acquire();
            auto b = co_await pool.acquire();
            auto c = co_await pool.acquire();
            auto d = co_await pool.acquire();
            co_await a.query("SELECT 1");
        }
        EXPECT_EQ(pool.stats().idle, 4u);
        const int rc = co_await offThread([] { return testenv::restartPg(); });
        EXPECT_EQ(rc, 0);
        co_await sleepFor(50ms);
        EXPECT_EQ(pool.stats().idle, 0u) << "stale idle connections were not noticed";

        int ok = 0;
        for (int i = 0; i < 100; ++i) {
            try {
                auto r = co_await pool.query("SELECT $1::int + 1", i);
                ok += r.getInt(0, 0) == i + 1 ? 1 : 0;
            } catch (const std::exception& e) {
                ADD_FAILURE() << "query " << i << " after restart failed: " << e.what();
            }
        }
        EXPECT_EQ(ok, 100);
    });
}

TEST(PgPool, BadParameterIsAQueryErrorAndTheConnectionStaysUsable) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgPool pool(io, options(1, "pgt_badparam_" + uniqueSuffix()));
        bool thrown = false;
        try {
            co_await pool.query("SELECT $1::int", "abc");
        } catch (const PgError& e) {
            thrown = true;
            EXPECT_EQ(e.kind(), PgError::Kind::Query);
            EXPECT_EQ(e.sqlstate(), "22P02");
            EXPECT_NE(std::string(e.what()).find("invalid input syntax"), std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(thrown);

        // The vector form (a braced list directly in co_await trips g++ 12, so name it).
        std::vector<PgParam> params{41, std::nullopt, true};
        auto r = co_await pool.query("SELECT $1::int + 1, $2::text IS NULL, $3::bool",
                                     std::move(params));
        EXPECT_EQ(r.getInt(0, 0), 42);
        EXPECT_EQ(r.get(0, 1), "t");
        EXPECT_EQ(r.get(0, 2), "t");
        EXPECT_EQ(pool.connectsTotal(), 1u) << "the SQL error must not cost the connection";

        // Result accessors.
        auto rows = co_await pool.query(
            "SELECT g AS n, CASE WHEN g = 2 THEN NULL ELSE 'x' || g END AS label "
            "FROM generate_series(1, 3) g ORDER BY g");
        EXPECT_EQ(rows.rows(), 3u);
        EXPECT_EQ(rows.columns(), 2);
        EXPECT_EQ(rows.column("label"), 1);
        EXPECT_EQ(rows.column("missing"), -1);
        EXPECT_EQ(rows.opt(0, 1), std::optional<std::string_view>("x1"));
        EXPECT_TRUE(rows.isNull(1, 1));
        EXPECT_EQ(rows.opt(1, 1), std::nullopt);
        EXPECT_THROW((void)rows.getInt(0, 1), PgError);
        EXPECT_THROW((void)rows.get(3, 0), std::out_of_range);

        // More parameters than placeholders: 08P01 at ERROR severity, the session is fine.
        std::string mismatch;
        try {
            co_await pool.query("SELECT $1::int", 1, 2);
        } catch (const PgError& e) {
            EXPECT_EQ(e.kind(), PgError::Kind::Query);
            mismatch = e.sqlstate();
        }
        EXPECT_EQ(mismatch, "08P01");

        bool syntax = false;
        try {
            co_await pool.query("SELEC 1");
        } catch (const PgError& e) {
            syntax = e.sqlstate() == "42601";
        }
        EXPECT_TRUE(syntax);
        co_await pool.ping();
        EXPECT_EQ(pool.connectsTotal(), 1u);
    });
}

TEST(PgPool, TransactionsCommitOrRollBack) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgPool pool(io, options(1, "pgt_tx_" + uniqueSuffix()));
        const std::string table = "pgt_tx_" + uniqueSuffix();
        co_await pool.query("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)");

        co_await pool.transaction([&](PgConn& c) -> Task<void> {
            auto r = co_await c.query("INSERT INTO " + table + " VALUES ($1, $2)", 1, "one");
            EXPECT_EQ(r.affected(), 1u);
        });
        auto count = [&](int id) -> Task<std::int64_t> {
            auto r = co_await pool.query("SELECT count(*) FROM " + table + " WHERE id = $1", id);
            co_return r.getInt(0, 0);
        };
        const auto n1 = co_await count(1);
        EXPECT_EQ(n1, 1);

        bool rethrown = false;
        try {
            co_await pool.transaction([&](PgConn& c) -> Task<void> {
                co_await c.query("INSERT INTO " + table + " VALUES ($1, $2)", 2, "two");
                throw std::runtime_error("body failed");
            });
        } catch (const std::runtime_error& e) {
            rethrown = std::string(e.what()) == "body failed";
        }
        EXPECT_TRUE(rethrown);
        const auto n2 = co_await count(2);
        EXPECT_EQ(n2, 0);

        // An SQL error inside the body: rolled back, and the connection is clean afterwards.
        std::string sqlstate;
        try {
            co_await pool.transaction([&](PgConn& c) -> Task<void> {
                co_await c.query("INSERT INTO " + table + " VALUES ($1, $2)", 3, "three");
                co_await c.query("INSERT INTO " + table + " VALUES ($1, $2)", 1, "dup");
            });
        } catch (const PgError& e) {
            sqlstate = e.sqlstate();
        }
        EXPECT_EQ(sqlstate, "23505");
        const auto n3 = co_await count(3);
        EXPECT_EQ(n3, 0);

        // A body that swallows an error: the server rolls back at COMMIT, and we say so.
        sqlstate.clear();
        try {
            co_await pool.transaction([&](PgConn& c) -> Task<void> {
                co_await c.query("INSERT INTO " + table + " VALUES ($1, $2)", 4, "four");
                try {
                    co_await c.query("SELECT 1/0");
                } catch (const PgError&) {
                }
            });
        } catch (const PgError& e) {
            sqlstate = e.sqlstate();
        }
        EXPECT_EQ(sqlstate, "25P02");
        const auto n4 = co_await count(4);
        EXPECT_EQ(n4, 0);

        auto st = co_await pool.query("SELECT 1");
        EXPECT_EQ(pool.connectsTotal(), 1u);
        co_await pool.query("DROP TABLE " + table);
    });
}

TEST(PgPool, PreparedStatementsArePreparedOncePerConnection) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgPool pool(io, options(1, "pgt_prep_" + uniqueSuffix()));
        const char* sql = "SELECT $1::int + 10";
        {
            auto c = co_await pool.acquire();
            auto r1 = co_await c.execute("plus_ten", sql, 1);
            EXPECT_EQ(r1.getInt(0, 0), 11);
            EXPECT_EQ(c.preparedCount(), 1u);
            auto r2 = co_await c.execute("plus_ten", sql, 2);
            EXPECT_EQ(r2.getInt(0, 0), 12);
            EXPECT_EQ(c.preparedCount(), 1u);
            auto ps = co_await c.query(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = 'plus_ten'");
            EXPECT_EQ(ps.getInt(0, 0), 1);
            bool mismatch = false;
            try {
                co_await c.execute("plus_ten", "SELECT 2");
            } catch (const PgError& e) {
                mismatch = e.kind() == PgError::Kind::Query;
            }
            EXPECT_TRUE(mismatch);
        }
        // A new lease on the same physical connection reuses the statement: preparing again
        // would fail with 42P05 (duplicate_prepared_statement).
        auto r3 = co_await pool.execute("plus_ten", sql, 3);
        EXPECT_EQ(r3.getInt(0, 0), 13);
        auto c = co_await pool.acquire();
        EXPECT_EQ(c.preparedCount(), 1u);
        EXPECT_EQ(pool.connectsTotal(), 1u);

        // A bad parameter to a prepared statement is a plain query error.
        std::string sqlstate;
        try {
            co_await c.execute("plus_ten", sql, "abc");
        } catch (const PgError& e) {
            sqlstate = e.sqlstate();
        }
        EXPECT_EQ(sqlstate, "22P02");
    });
}

// A transaction's body may return its result: it leaves as a value once COMMIT succeeded, and
// a body that throws returns nothing and leaves nothing behind.
TEST(PgPool, TransactionsReturnTheirBodysValue) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgPool pool(io, options(2, "pgt_txvalue_" + uniqueSuffix()));
        auto table = "pgt_txvalue_" + uniqueSuffix();
        co_await pool.query("CREATE TABLE " + table + " (n int)");
        auto n = co_await pool.transaction([&](PgConn& tx) -> Task<std::int64_t> {
            co_await tx.query("INSERT INTO " + table + " VALUES (1), (2), (3)");
            auto r = co_await tx.query("SELECT sum(n) FROM " + table);
            co_return r.getInt(0, 0);
        });
        EXPECT_EQ(n, 6);
        bool threw = false;
        try {
            co_await pool.transaction([&](PgConn& tx) -> Task<std::string> {
                co_await tx.query("INSERT INTO " + table + " VALUES (100)");
                throw std::runtime_error("changed my mind");
            });
        } catch (const std::runtime_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        auto sum = co_await pool.query("SELECT sum(n) FROM " + table);
        EXPECT_EQ(sum.getInt(0, 0), 6);
        co_await pool.query("DROP TABLE " + table);
        pool.close();
    });
}

TEST(PgPool, NamesBeyondMaxPreparedRunUnnamed) {
    runAsync([](net::io_context& io) -> Task<void> {
        auto opts = options(1, "pgt_maxprep_" + uniqueSuffix());
        opts.max_prepared = 2;
        PgPool pool(io, opts);
        auto c = co_await pool.acquire();
        for (int i = 0; i < 4; ++i) {
            auto r = co_await c.execute("stmt_" + std::to_string(i),
                                        "SELECT $1::int * " + std::to_string(i + 2), 5);
            EXPECT_EQ(r.getInt(0, 0), 5 * (i + 2));
        }
        EXPECT_EQ(c.preparedCount(), 2u);
        auto ps = co_await c.query(
            "SELECT string_agg(name, ',' ORDER BY name) FROM "
            "pg_prepared_statements");
        EXPECT_EQ(ps.get(0, 0), "stmt_0,stmt_1");
        // The first two stay prepared and keep answering.
        auto again = co_await c.execute("stmt_1", "SELECT $1::int * 3", 7);
        EXPECT_EQ(again.getInt(0, 0), 21);
    });
}

TEST(PgPool, AcquireTimesOutWhenExhaustedAndRecoversAfterRelease) {
    runAsync([](net::io_context& io) -> Task<void> {
        auto opts = options(1, "pgt_exhaust_" + uniqueSuffix());
        opts.acquire_timeout = 200ms;
        PgPool pool(io, opts);
        auto held = co_await pool.acquire();
        co_await held.query("SELECT 1");

        const auto t0 = Clock::now();
        bool timed_out = false;
        try {
            auto second = co_await pool.acquire();
        } catch (const PgError& e) {
            timed_out = e.kind() == PgError::Kind::PoolTimeout;
        }
        const auto waited = Clock::now() - t0;
        EXPECT_TRUE(timed_out);
        EXPECT_GE(waited, 190ms);
        EXPECT_LT(waited, 2s);
        EXPECT_EQ(pool.stats().waiting, 0u);

        held.release();
        auto again = co_await pool.acquire();
        EXPECT_TRUE(again);
        co_await again.query("SELECT 1");
        again.release();

        // A waiter is handed the connection as soon as the holder releases it.
        auto holder = co_await pool.acquire();
        net::co_spawn(
            io,
            [](PgConn lease) -> Task<void> {
                co_await sleepFor(50ms);
                lease.release();
            }(std::move(holder)),
            net::detached);
        const auto t1 = Clock::now();
        auto handed = co_await pool.acquire();
        EXPECT_LT(Clock::now() - t1, 180ms);
        auto r = co_await handed.query("SELECT 7");
        EXPECT_EQ(r.getInt(0, 0), 7);
        EXPECT_EQ(pool.connectsTotal(), 1u);
    });
}

unsigned short closedPort() {
    net::io_context io;
    net::ip::tcp::acceptor a(io, {net::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();  // closed when `a` goes away
}

TEST(PgPool, ConnectToDeadPortFailsFast) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgOptions opts;
        opts.conninfo = "host=127.0.0.1 port=" + std::to_string(closedPort()) +
                        " user=postgres dbname=postgres";
        opts.size = 2;
        opts.connect_timeout = 5s;
        PgPool pool(io, opts);
        for (int i = 0; i < 3; ++i) {
            const auto t0 = Clock::now();
            bool conn_error = false;
            try {
                co_await pool.query("SELECT 1");
            } catch (const PgError& e) {
                conn_error = e.kind() == PgError::Kind::Connection;
            }
            EXPECT_TRUE(conn_error);
            EXPECT_LT(Clock::now() - t0, 1s);
        }
        EXPECT_EQ(pool.stats().total, 0u);
    });
}

TEST(PgPool, ConnectTimeoutBoundsASilentServer) {
    runAsync([](net::io_context& io) -> Task<void> {
        // Accepts TCP (the kernel does the handshake) but never answers the startup packet.
        net::ip::tcp::acceptor silent(io, {net::ip::make_address("127.0.0.1"), 0});
        PgOptions opts;
        opts.conninfo = "host=127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) +
                        " user=postgres dbname=postgres";
        opts.connect_timeout = 200ms;
        PgPool pool(io, opts);
        const auto t0 = Clock::now();
        bool conn_error = false;
        try {
            co_await pool.ping();
        } catch (const PgError& e) {
            conn_error = e.kind() == PgError::Kind::Connection;
            EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(conn_error);
        EXPECT_GE(Clock::now() - t0, 190ms);
        EXPECT_LT(Clock::now() - t0, 2s);
    });
}

TEST(PgPool, QueryTimeoutDiscardsTheConnectionAndThePoolGoesOn) {
    runAsync([](net::io_context& io) -> Task<void> {
        auto opts = options(1, "pgt_timeout_" + uniqueSuffix());
        opts.query_timeout = 200ms;
        PgPool pool(io, opts);
        co_await pool.ping();
        const auto t0 = Clock::now();
        bool timeout = false;
        try {
            co_await pool.query("SELECT pg_sleep(5)");
        } catch (const PgError& e) {
            timeout = e.kind() == PgError::Kind::Timeout;
        }
        EXPECT_TRUE(timeout);
        EXPECT_LT(Clock::now() - t0, 1500ms);
        EXPECT_EQ(pool.stats().total, 0u) << "a timed-out connection must not be reused";

        auto r = co_await pool.query("SELECT $1::int", 5);
        EXPECT_EQ(r.getInt(0, 0), 5);
        EXPECT_EQ(pool.connectsTotal(), 2u);

        // A server-side statement_timeout is a Timeout too, but the connection survives.
        std::string sqlstate;
        PgError::Kind kind = PgError::Kind::Query;
        try {
            co_await pool.transaction([](PgConn& c) -> Task<void> {
                co_await c.query("SET LOCAL statement_timeout = 50");
                co_await c.query("SELECT pg_sleep(1)");
            });
        } catch (const PgError& e) {
            sqlstate = e.sqlstate();
            kind = e.kind();
        }
        EXPECT_EQ(sqlstate, "57014");
        EXPECT_EQ(kind, PgError::Kind::Timeout);
        co_await pool.ping();
        EXPECT_EQ(pool.connectsTotal(), 2u);
    });
}

// The pool's query_timeout ends the client's wait, but the server notices the closed connection
// only when it next writes: without statement_timeout, the abandoned statement runs on.
TEST(PgPool, StatementTimeoutStopsAnAbandonedStatementOnTheServer) {
    runAsync([](net::io_context& io) -> Task<void> {
        auto app = "pgt_stmt_" + uniqueSuffix();
        auto opts = options(1, app);
        opts.query_timeout = 300ms;
        opts.statement_timeout = 250ms;
        PgPool pool(io, opts);
        auto shown = co_await pool.query("SHOW statement_timeout");
        EXPECT_EQ(shown.get(0, 0), "250ms");
        bool timeout = false;
        try {
            co_await pool.query("SELECT pg_sleep(30)");
        } catch (const PgError& e) {
            timeout = e.kind() == PgError::Kind::Timeout;
        }
        EXPECT_TRUE(timeout);
        PgPool watcher(io, options(1, app + "_w"));
        std::int64_t running = -1;
        for (int i = 0; i < 40 && running != 0; ++i) {
            co_await sleepFor(50ms);
            auto r = co_await watcher.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
                "AND state = 'active'",
                app);
            running = r.getInt(0, 0);
        }
        EXPECT_EQ(running, 0) << "the abandoned pg_sleep(30) still runs on the server";
        watcher.close();
        pool.close();
    });
}

TEST(PgPool, LeaseOutlivingThePoolIsSafe) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgConn lease;
        {
            PgPool pool(io, options(2, "pgt_outlive_" + uniqueSuffix()));
            lease = co_await pool.acquire();
            co_await lease.query("SELECT 1");
        }
        auto r = co_await lease.query("SELECT 2");
        EXPECT_EQ(r.getInt(0, 0), 2);
        lease.release();  // closes the connection: the pool is gone
    });
}

TEST(PgCluster, ReplicaFallsBackToPrimaryAndRoundRobins) {
    runAsync([](net::io_context& io) -> Task<void> {
        PgCluster solo(io, options(1, "pgt_cluster_" + uniqueSuffix()), {});
        EXPECT_EQ(&solo.replica(), &solo.primary());
        co_await solo.replica().ping();

        const std::string ci = testenv::pgConninfo();
        PgCluster split(io, options(1, "pgt_split"), {ci, ci});
        PgPool& a = split.replica();
        PgPool& b = split.replica();
        EXPECT_NE(&a, &b);
        EXPECT_EQ(&split.replica(), &a);
        EXPECT_NE(&a, &split.primary());
        EXPECT_EQ(a.name(), "pgt_split-replica-0");
        auto r = co_await b.query("SELECT 3");
        EXPECT_EQ(r.getInt(0, 0), 3);
    });
}

}  // namespace
}  // namespace restinu::rt
