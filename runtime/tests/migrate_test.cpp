#include "restinu/rt/migrate.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <random>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/pg.hpp"
#include "test_env.hpp"

namespace restinu::rt {
namespace {

// A fresh database per test, created through the maintenance database.
class MigrateTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::mt19937_64 rng{std::random_device{}()};
        db_ = "mig_" + std::to_string(rng() % 1000000000);
        PgPool maintenance(io_, options(testenv::pgConninfo(), "maintenance"));
        ASSERT_TRUE(runBlocking(io_, createDatabaseIfMissing(maintenance, db_)));
        EXPECT_FALSE(runBlocking(io_, createDatabaseIfMissing(maintenance, db_)));
        maintenance.close();
        pool_ = std::make_unique<PgPool>(
            io_, options(testenv::pgConninfo() + " dbname=" + db_, "migrate"));
    }
    void TearDown() override {
        if (pool_) {
            pool_->close();
        }
    }
    static PgOptions options(std::string conninfo, std::string name) {
        PgOptions o;
        o.conninfo = std::move(conninfo);
        o.name = std::move(name);
        o.size = 2;
        return o;
    }
    std::int64_t count(const std::string& sql) {
        return runBlocking(io_, pool_->query(sql)).getInt(0, 0);
    }

    boost::asio::io_context io_;
    std::string db_;
    std::unique_ptr<PgPool> pool_;
};

const std::vector<Migration> kTwo{
    {"runtime", 1, "0001_a", "CREATE TABLE a (id int); CREATE TABLE a2 (id int);"},
    {"svc", 1, "0001_b", "CREATE TABLE b (id int); INSERT INTO b VALUES (1), (2);"},
};

TEST_F(MigrateTest, AppliesPendingOnceAndChecksClean) {
    EXPECT_THROW(runBlocking(io_, checkMigrations(*pool_, "svc", kTwo)), MigrationError);
    EXPECT_EQ(runBlocking(io_, applyMigrations(*pool_, "svc", kTwo)), 2);
    EXPECT_EQ(runBlocking(io_, applyMigrations(*pool_, "svc", kTwo)), 0);
    EXPECT_NO_THROW(runBlocking(io_, checkMigrations(*pool_, "svc", kTwo)));
    EXPECT_EQ(count("SELECT count(*) FROM b"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_schema_migrations"), 2);
}

TEST_F(MigrateTest, MissingMigrationIsNamedInTheError) {
    runBlocking(io_, applyMigrations(*pool_, "svc", {kTwo[0]}));
    try {
        runBlocking(io_, checkMigrations(*pool_, "svc", kTwo));
        FAIL();
    } catch (const MigrationError& e) {
        EXPECT_NE(std::string(e.what()).find("svc/0001_b"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("restinu migrate svc"), std::string::npos);
    }
}

TEST_F(MigrateTest, ChangedMigrationIsRefused) {
    runBlocking(io_, applyMigrations(*pool_, "svc", kTwo));
    auto changed = kTwo;
    changed[1].sql = "CREATE TABLE b (id bigint);";
    EXPECT_THROW(runBlocking(io_, checkMigrations(*pool_, "svc", changed)), MigrationError);
    EXPECT_THROW(runBlocking(io_, applyMigrations(*pool_, "svc", changed)), MigrationError);
}

TEST_F(MigrateTest, FailingMigrationLeavesNothingHalfApplied) {
    std::vector<Migration> bad{
        kTwo[0],
        {"svc", 1, "0001_bad", "CREATE TABLE c (id int); SELECT no_such_function();"},
    };
    EXPECT_THROW(runBlocking(io_, applyMigrations(*pool_, "svc", bad)), MigrationError);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_schema_migrations"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE tablename = 'c'"), 0);
}

TEST_F(MigrateTest, ConcurrentMigratorsApplyEachMigrationOnce) {
    std::vector<Migration> many;
    std::vector<std::string> sql(20);
    for (int i = 0; i < 20; ++i) {
        sql[static_cast<std::size_t>(i)] = "CREATE TABLE t" + std::to_string(i) + " (id int)";
        many.push_back({"svc", i + 1, "m", sql[static_cast<std::size_t>(i)]});
    }
    PgPool other(io_, options(testenv::pgConninfo() + " dbname=" + db_, "other"));
    auto a =
        boost::asio::co_spawn(io_, applyMigrations(*pool_, "svc", many), boost::asio::use_future);
    auto b =
        boost::asio::co_spawn(io_, applyMigrations(other, "svc", many), boost::asio::use_future);
    while (a.wait_for(std::chrono::seconds(0)) != std::future_status::ready ||
           b.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        io_.restart();
        io_.run_one();
    }
    EXPECT_EQ(a.get() + b.get(), 20);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_schema_migrations"), 20);
    other.close();
}

TEST(MigrateName, BadDatabaseNameIsRefusedBeforeAnySql) {
    boost::asio::io_context io;
    PgOptions o;
    o.conninfo = testenv::pgConninfo();
    PgPool pool(io, o);
    EXPECT_THROW(runBlocking(io, createDatabaseIfMissing(pool, "x\"; DROP DATABASE postgres")),
                 MigrationError);
    pool.close();
}

}  // namespace
}  // namespace restinu::rt
