#include "restinu/rt/bus.hpp"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <random>
#include <thread>

#include "bus_test_support.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/redis.hpp"
#include "test_env.hpp"

extern char** environ;

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using testing::kTestSchema;
using testing::recordEffect;

std::string randomSuffix() {
    std::mt19937_64 rng{std::random_device{}()};
    return std::to_string(rng() % 1000000000);
}

class BusTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        db_ = "bus_" + randomSuffix();
        net::io_context io;
        PgOptions mo;
        mo.conninfo = testenv::pgConninfo();
        mo.size = 1;
        PgPool maintenance(io, mo);
        runBlocking(io, createDatabaseIfMissing(maintenance, db_));
        maintenance.close();
        PgOptions o;
        o.conninfo = conninfo();
        o.size = 1;
        PgPool pool(io, o);
        MigrationSet ms;  // the runtime's own, from the source tree (the app embeds the same)
        ms.addDir("runtime", std::string(RESTINU_SOURCE_DIR) + "/runtime/migrations");
        runBlocking(io, applyMigrations(pool, "runtime", ms.list()));
        runBlocking(io, [&]() -> Task<void> {
            auto c = co_await pool.acquire();
            co_await c.script(kTestSchema);
        }());
        pool.close();
    }

    static std::string conninfo() { return testenv::pgConninfo() + " dbname=" + db_; }

    void SetUp() override {
        type_ = "t" + randomSuffix();
        group_ = "g" + randomSuffix();
        writers_ = makePool("writers", 8);
        redis_ = std::make_unique<Redis>(io_, redisOptions());
    }
    void TearDown() override {
        if (writers_) {
            writers_->close();
        }
        redis_->close();
    }

    std::unique_ptr<PgPool> makePool(std::string name, std::size_t size) {
        PgOptions o;
        o.conninfo = conninfo();
        o.size = size;
        o.name = std::move(name);
        return std::make_unique<PgPool>(io_, o);
    }
    static RedisOptions redisOptions() {
        RedisOptions r;
        r.port = testenv::redisPort();
        return r;
    }
    ConsumerOptions consumerOptions(std::string name = "c1") {
        ConsumerOptions c;
        c.group = group_;
        c.aggregate_types = {type_};
        c.consumer = std::move(name);
        c.block = std::chrono::milliseconds(200);
        c.redis = redisOptions();
        return c;
    }

    // One transaction: bump the aggregate's counter (the row lock serialises writers of one
    // aggregate, so outbox order is commit order per aggregate) and emit an event carrying it.
    Task<void> writeEvent(PgPool& pool, std::string aggregate) {
        co_await pool.transaction([&](PgConn& tx) -> Task<void> {
            auto r = co_await tx.query(
                "INSERT INTO bus_aggregates (id, n) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE "
                "SET n = bus_aggregates.n + 1 RETURNING n",
                aggregate);
            auto n = r.getInt(0, 0);
            co_await enqueueEvent(tx, makeEvent(type_ + ".changed", type_, aggregate,
                                                "{\"n\":" + std::to_string(n) + "}"));
        });
    }

    std::int64_t effects(const std::string& extra = "") {
        return runBlocking(io_, writers_->query("SELECT count(*) FROM bus_effects "
                                                "WHERE consumer_group = $1" +
                                                    extra,
                                                group_))
            .getInt(0, 0);
    }

    // Runs the loop until `done()` or the deadline; returns done().
    bool runUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(std::chrono::milliseconds(50));
        }
        return done();
    }

    static inline std::string db_;

    net::io_context io_;
    std::string type_;
    std::string group_;
    std::unique_ptr<PgPool> writers_;
    std::unique_ptr<Redis> redis_;
};

TEST_F(BusTest, TenThousandEventsFromConcurrentTransactionsAndTwoRelaysTakeEffectOnceInOrder) {
    constexpr int kWriters = 40;
    constexpr int kPerWriter = 250;
    constexpr int kAggregates = 100;
    auto relay_pool1 = makePool("relay1", 2);
    auto relay_pool2 = makePool("relay2", 2);
    Redis relay_redis1(io_, redisOptions());
    Redis relay_redis2(io_, redisOptions());
    OutboxRelay relay1(io_, *relay_pool1, relay_redis1, conninfo(), {.name = "r1"});
    OutboxRelay relay2(io_, *relay_pool2, relay_redis2, conninfo(), {.name = "r2"});
    auto consumer_pool = makePool("consumer", 2);
    EventConsumer consumer(io_, *consumer_pool, consumerOptions(), recordEffect(group_));
    relay1.start();
    relay2.start();
    consumer.start();

    int finished_writers = 0;
    for (int w = 0; w < kWriters; ++w) {
        net::co_spawn(
            io_,
            [&, w]() -> Task<void> {
                for (int i = 0; i < kPerWriter; ++i) {
                    co_await writeEvent(*writers_, "a" + std::to_string((w * 7 + i) % kAggregates));
                }
                ++finished_writers;
            },
            net::detached);
    }
    ASSERT_TRUE(runUntil([&] { return consumer.handled() >= kWriters * kPerWriter; },
                         std::chrono::seconds(180)))
        << "handled " << consumer.handled();
    EXPECT_EQ(finished_writers, kWriters);
    // Nothing more arrives later: exactly once in effect.
    runUntil([] { return false; }, std::chrono::seconds(1));
    EXPECT_EQ(effects(), kWriters * kPerWriter);
    EXPECT_EQ(relay1.published() + relay2.published(),
              static_cast<std::uint64_t>(kWriters * kPerWriter));
    // In order per aggregate: arrival order of n is 1, 2, 3, ... for every aggregate.
    auto out_of_order = runBlocking(
        io_, writers_->query(
                 "SELECT count(*) FROM (SELECT n, row_number() OVER (PARTITION BY aggregate_id "
                 "ORDER BY arrival) AS pos FROM bus_effects WHERE consumer_group = $1) x "
                 "WHERE n <> pos",
                 group_));
    EXPECT_EQ(out_of_order.getInt(0, 0), 0);
    auto backlog = runBlocking(io_, relay1.backlog());
    EXPECT_EQ(backlog, 0);
    consumer.stop();
    relay1.stop();
    relay2.stop();
    runUntil([] { return false; }, std::chrono::seconds(1));
    relay_pool1->close();
    relay_pool2->close();
    consumer_pool->close();
}

TEST_F(BusTest, MetricsCountPublishedAndHandledEventsAndTheBacklog) {
    MetricsRegistry metrics;
    auto relay_pool = makePool("relay", 2);
    OutboxRelay relay(io_, *relay_pool, *redis_, conninfo(), {.name = "m"}, &metrics);
    auto consumer_pool = makePool("consumer", 2);
    EventConsumer consumer(io_, *consumer_pool, consumerOptions(), recordEffect(group_), &metrics);
    relay.start();
    consumer.start();
    runBlocking(io_, writeEvent(*writers_, "metered"));
    runBlocking(io_, writeEvent(*writers_, "metered"));
    ASSERT_TRUE(runUntil([&] { return consumer.handled() == 2; }, std::chrono::seconds(20)));
    runUntil([] { return false; }, std::chrono::seconds(2));  // the backlog gauge refreshes
    auto text = metrics.render();
    EXPECT_NE(text.find("restinu_bus_published_total{relay=\"m\"} 2\n"), std::string::npos) << text;
    EXPECT_NE(
        text.find("restinu_bus_handled_total{group=\"" + group_ + "\",outcome=\"applied\"} 2\n"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("restinu_bus_handle_delay_seconds_count{group=\"" + group_ + "\"} 2\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("restinu_bus_outbox_backlog{relay=\"m\"} 0\n"), std::string::npos) << text;
    consumer.stop();
    relay.stop();
    runUntil([] { return false; }, std::chrono::seconds(1));
    relay_pool->close();
    consumer_pool->close();
}

TEST_F(BusTest, ARolledBackTransactionPublishesNothing) {
    auto relay_pool = makePool("relay", 2);
    OutboxRelay relay(io_, *relay_pool, *redis_, conninfo());
    relay.start();
    auto rolled_back = makeEvent(type_ + ".ghost", type_, "ghost", R"({"n":1})");
    EXPECT_THROW(runBlocking(io_, writers_->transaction([&](PgConn& tx) -> Task<void> {
                     co_await enqueueEvent(tx, rolled_back);
                     throw std::runtime_error("the business rule failed");
                 })),
                 std::runtime_error);
    runBlocking(io_, writeEvent(*writers_, "real"));
    ASSERT_TRUE(runUntil([&] { return relay.published() >= 1; }, std::chrono::seconds(20)));
    runUntil([] { return false; }, std::chrono::seconds(1));
    auto entries = runBlocking(io_, redis_->call("XRANGE", streamFor(type_), "-", "+"));
    ASSERT_EQ(entries.elements.size(), 1u);
    std::string all;
    for (const auto& f : entries.elements[0].elements[1].elements) {
        all += f.str + " ";
    }
    EXPECT_EQ(all.find(rolled_back.id), std::string::npos);
    EXPECT_NE(all.find("real"), std::string::npos);
    EXPECT_EQ(relay.published(), 1u);
    relay.stop();
    runUntil([] { return false; }, std::chrono::seconds(1));
    relay_pool->close();
}

TEST_F(BusTest, ConsumerKilledAfterCommitBeforeAckHasItsEntriesClaimedAndAppliedOnce) {
    constexpr int kEvents = 20;
    auto relay_pool = makePool("relay", 2);
    OutboxRelay relay(io_, *relay_pool, *redis_, conninfo());
    relay.start();
    for (int i = 0; i < kEvents; ++i) {
        runBlocking(io_, writeEvent(*writers_, "k" + std::to_string(i % 3)));
    }
    ASSERT_TRUE(runUntil([&] { return relay.published() >= kEvents; }, std::chrono::seconds(20)));

    // The victim: its own process, SIGKILLed by itself after its 5th commit, before XACK.
    std::vector<std::string> args{
        BUS_HELPER_PATH, conninfo(), std::to_string(testenv::redisPort()), group_, type_,
        "victim",        "5"};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the helper exited with " << WEXITSTATUS(status);
    ASSERT_EQ(WTERMSIG(status), SIGKILL);
    EXPECT_EQ(effects(), 5);  // its five effects committed
    auto pending = runBlocking(io_, redis_->call("XPENDING", streamFor(type_), group_));
    ASSERT_FALSE(pending.elements.empty());
    EXPECT_GE(pending.elements[0].integer, 1);  // the fifth was never acknowledged

    // The rescuer claims what the victim left pending and reads the rest.
    auto opts = consumerOptions("rescuer");
    opts.claim_idle = std::chrono::milliseconds(300);
    auto consumer_pool = makePool("consumer", 2);
    EventConsumer rescuer(io_, *consumer_pool, opts, recordEffect(group_));
    rescuer.start();
    ASSERT_TRUE(runUntil([&] { return effects() >= kEvents && rescuer.duplicates() >= 1; },
                         std::chrono::seconds(30)))
        << "effects " << effects() << " duplicates " << rescuer.duplicates();
    runUntil([] { return false; }, std::chrono::seconds(1));
    EXPECT_EQ(effects(), kEvents);
    EXPECT_EQ(rescuer.handled(), static_cast<std::uint64_t>(kEvents - 5));
    pending = runBlocking(io_, redis_->call("XPENDING", streamFor(type_), group_));
    EXPECT_EQ(pending.elements[0].integer, 0);
    rescuer.stop();
    relay.stop();
    runUntil([] { return false; }, std::chrono::seconds(1));
    relay_pool->close();
    consumer_pool->close();
}

TEST_F(BusTest, RedisRestartWhileEventsFlowLosesNothing) {
    constexpr int kEvents = 2000;
    auto relay_pool = makePool("relay", 2);
    Redis relay_redis(io_, redisOptions());
    OutboxRelay relay(io_, *relay_pool, relay_redis, conninfo());
    auto consumer_pool = makePool("consumer", 2);
    EventConsumer consumer(io_, *consumer_pool, consumerOptions(), recordEffect(group_));
    relay.start();
    consumer.start();
    int written = 0;
    net::co_spawn(
        io_,
        [&]() -> Task<void> {
            for (int i = 0; i < kEvents; ++i) {
                co_await writeEvent(*writers_, "r" + std::to_string(i % 10));
                ++written;
            }
        },
        net::detached);
    ASSERT_TRUE(runUntil([&] { return consumer.handled() >= 300; }, std::chrono::seconds(60)));
    std::thread restart([] { EXPECT_EQ(testenv::restartRedis(), 0); });
    // Keep the loop running (writers go on) while Redis restarts.
    runUntil([&] { return false; }, std::chrono::seconds(1));
    restart.join();
    ASSERT_TRUE(runUntil([&] { return written == kEvents && effects() == kEvents; },
                         std::chrono::seconds(120)))
        << "written " << written << " effects " << effects();
    runUntil([] { return false; }, std::chrono::seconds(1));
    EXPECT_EQ(effects(), kEvents);
    EXPECT_EQ(runBlocking(io_, relay.backlog()), 0);
    consumer.stop();
    relay.stop();
    runUntil([] { return false; }, std::chrono::seconds(1));
    relay_pool->close();
    consumer_pool->close();
}

TEST_F(BusTest, AlwaysFailingHandlerDeadLettersAndReplayBringsItBackAfterTheFix) {
    auto relay_pool = makePool("relay", 2);
    OutboxRelay relay(io_, *relay_pool, *redis_, conninfo());
    bool broken = true;
    auto effect = recordEffect(group_);
    auto opts = consumerOptions();
    opts.max_attempts = 3;
    opts.backoff_base = std::chrono::milliseconds(10);
    opts.backoff_max = std::chrono::milliseconds(50);
    auto consumer_pool = makePool("consumer", 2);
    EventConsumer consumer(io_, *consumer_pool, opts,
                           [&](PgConn& tx, const Event& e) -> Task<void> {
                               if (broken && e.aggregate_id == "poison") {
                                   throw std::runtime_error("cannot handle poison yet");
                               }
                               co_await effect(tx, e);
                           });
    relay.start();
    consumer.start();
    runBlocking(io_, writeEvent(*writers_, "poison"));
    runBlocking(io_, writeEvent(*writers_, "fine"));
    ASSERT_TRUE(runUntil([&] { return consumer.deadLettered() == 1 && consumer.handled() == 1; },
                         std::chrono::seconds(30)));
    auto dead = runBlocking(io_, listDeadLetters(*redis_, group_));
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].event.aggregate_id, "poison");
    EXPECT_EQ(dead[0].attempts, 3);
    EXPECT_NE(dead[0].error.find("cannot handle poison yet"), std::string::npos);
    EXPECT_EQ(dead[0].source_stream, streamFor(type_));
    EXPECT_EQ(effects(" AND aggregate_id = 'poison'"), 0);

    broken = false;  // the fix is deployed
    EXPECT_EQ(runBlocking(io_, replayDeadLetters(*redis_, group_, {}, writers_.get())), 1u);
    ASSERT_TRUE(runUntil([&] { return consumer.handled() == 2; }, std::chrono::seconds(30)));
    EXPECT_EQ(effects(" AND aggregate_id = 'poison'"), 1);
    EXPECT_TRUE(runBlocking(io_, listDeadLetters(*redis_, group_)).empty());

    // Replaying a range the group already applied has no second effect (the inbox).
    EXPECT_EQ(runBlocking(io_, replayRange(*redis_, group_, streamFor(type_), "-", "+")), 2u);
    ASSERT_TRUE(runUntil([&] { return consumer.duplicates() >= 2; }, std::chrono::seconds(30)));
    EXPECT_EQ(effects(), 2);

    auto streams = runBlocking(io_, listStreams(*redis_));
    auto it = std::find_if(streams.begin(), streams.end(),
                           [&](const StreamInfo& s) { return s.stream == streamFor(type_); });
    ASSERT_NE(it, streams.end());
    EXPECT_EQ(it->length, 2);
    ASSERT_EQ(it->groups.size(), 1u);
    EXPECT_EQ(it->groups[0].name, group_);
    EXPECT_EQ(it->groups[0].lag, 0);
    consumer.stop();
    relay.stop();
    runUntil([] { return false; }, std::chrono::seconds(1));
    relay_pool->close();
    consumer_pool->close();
}

}  // namespace
}  // namespace restinu::rt
