// The property service's answers through the cache, with two instances (two shards, each with
// its own pools, Redis clients and L1) on the same PostgreSQL and Redis, as `make run` starts it.
#include <atomic>
#include <thread>

#include "async_test.hpp"
#include "property_fixture.hpp"
#include "test_env.hpp"

namespace restinu::property {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class CacheTest : public PropertyTest {
protected:
    // Short lives, so a test can wait past them; a long lease, so a slow sanitizer build
    // never lets a second computer in.
    std::string serviceConfig() const override {
        return config() + "cache:\n  fresh: " + std::to_string(fresh().count()) +
               "ms\n  stale: 0ms\n  if_error: 10m\n  lease: 3s\n  negative: 200ms\n";
    }
    virtual std::chrono::milliseconds fresh() const { return 300ms; }
    void SetUp() override {
        other_.reset();
        PropertyTest::SetUp();
        auto s = spec();
        s.database = std::string(registry::find("property")->database);
        other_ = std::make_unique<testing::ServiceClient>(s, serviceConfig());
    }
    void TearDown() override {
        other_.reset();
        PropertyTest::TearDown();
    }

    std::string createListing(const rt::Identity& agent, const std::string& title) {
        auto r = call(kCreate, {boost::json::serialize(listing(title)), agent});
        EXPECT_EQ(r.status, 201) << r.raw.body;
        project();
        return std::string(r.body.at("id").as_string());
    }

    // Statements on the read model this database ran since the last reset.
    std::int64_t searchStatements() {
        return count(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE dbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query LIKE '%FROM property_search%' AND query NOT LIKE $1",
            "%pg_stat_statements%");
    }

    testing::ServiceClient::Call get(const std::string& id, std::string if_none_match = "") {
        testing::ServiceClient::Call c{rt::Method::Get, kGet.target({{"id", id}})};
        if (!if_none_match.empty()) {
            c.headers.emplace_back("If-None-Match", std::move(if_none_match));
        }
        return c;
    }

    std::unique_ptr<testing::ServiceClient> other_;  // the second instance
};

// Searches computed by PostgreSQL, so that each computation is exactly one statement to count
// (the in-memory index adds freshness queries of its own, which are not what is tested here).
// The answer stays fresh long enough that the recomputed one outlives the burst by far: a
// request served from it then refreshes early (XFetch) with odds of e^(-remaining/Δ), about
// e^-15 per request with seconds left and a slow sanitizer-built computation, where 300 ms
// gave a second, rightful computation now and then.
class CacheOverSqlSearchTest : public CacheTest {
protected:
    std::string serviceConfig() const override {
        return CacheTest::serviceConfig() + "search:\n  engine: database\n";
    }
    std::chrono::milliseconds fresh() const override { return 4s; }
};

TEST_F(CacheOverSqlSearchTest,
       AThousandRequestsForAnExpiredHotSearchRunOneQueryAcrossTwoInstances) {
    auto agent = person("agent");
    createListing(agent, "Cached search one");
    createListing(agent, "Cached search two");
    const std::string target = kSearch.target({}, "city=mumbai&sort=price_asc&limit=5");
    auto first = client_->send({rt::Method::Get, target});
    ASSERT_EQ(first.status, 200) << first.raw.body;
    // The second instance has answered a search too (its connections are warm).
    ASSERT_EQ(other_->send({rt::Method::Get, kSearch.target({}, "city=pune")}).status, 200);
    std::this_thread::sleep_for(fresh() + 100ms);  // past fresh (no stale window): expired
    rt::runBlocking(io(), pool_->query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"));
    rt::runBlocking(io(), pool_->query("SELECT pg_stat_statements_reset()"));

    // 500 requests at once on each instance, each instance on its own thread.
    struct Outcome {
        int ok = 0;
        int failed = 0;
        Clock::duration slowest{};
    };
    auto burst = [&target, &first](testing::ServiceClient& c, Outcome& out) {
        rt::runBlocking(c.io(), [&]() -> rt::Task<void> {
            int running = 500;
            auto one = [&]() -> rt::Task<void> {
                const auto started = Clock::now();
                auto res = co_await c.answer({rt::Method::Get, target});
                bool same = res.status == 200 && boost::json::parse(res.body) == first.body;
                (same ? out.ok : out.failed) += 1;
                out.slowest = std::max(out.slowest, Clock::now() - started);
                --running;
            };
            for (int i = 0; i < 500; ++i) {
                boost::asio::co_spawn(c.io(), one(), boost::asio::detached);
            }
            while (running > 0) {
                co_await testing::sleepFor(5ms);
            }
        }());
    };
    Outcome a;
    Outcome b;
    std::thread on_b([&] { burst(*other_, b); });
    burst(*client_, a);
    on_b.join();
    EXPECT_EQ(a.ok + b.ok, 1000);
    EXPECT_EQ(a.failed + b.failed, 0);
    EXPECT_EQ(searchStatements(), 1) << "the search ran more than once across both instances";
    EXPECT_LT(std::max(a.slowest, b.slowest), 3s) << "a request waited longer than the lease";
}

TEST_F(CacheTest, AListingChangedThroughOneInstanceIsNotServedStaleByTheOther) {
    auto agent = person("agent");
    auto id = createListing(agent, "Before the change");
    auto on_a = client_->send(get(id));
    auto on_b = other_->send(get(id));  // both instances hold it now
    ASSERT_EQ(on_b.status, 200);
    ASSERT_EQ(on_b.raw.header("ETag"), "\"1\"");
    auto& invalidations = other_->metrics()
                              .counter("restinu_cache_events_total", "", {"cache", "event"})
                              .labels({"property/" + db_, "invalidation"});
    const auto seen = invalidations.value();

    auto patch = call(kUpdate, {R"({"title":"After the change"})", agent, id, "", "\"1\""});
    ASSERT_EQ(patch.status, 200) << patch.raw.body;
    const auto changed = Clock::now();
    // Until B has the message it may still hold the old one in L1; from then on, never. And
    // within a second in any case.
    bool arrived = false;
    int fresh_answers = 0;
    while (Clock::now() - changed < 1s) {
        arrived = arrived || invalidations.value() > seen;
        auto r = other_->send(get(id));
        ASSERT_EQ(r.status, 200);
        const bool is_new = r.body.at("title") == "After the change";
        if (arrived) {
            ASSERT_TRUE(is_new) << "B answered the old listing after the invalidation arrived";
        }
        fresh_answers += is_new ? 1 : 0;
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(arrived);
    EXPECT_GT(fresh_answers, 0);
    EXPECT_EQ(client_->send(get(id)).raw.header("ETag"), "\"2\"");
}

TEST_F(CacheTest, WithPostgresStoppedCachedAnswersStillComeAndTheRestFailFastWith503) {
    auto agent = person("agent");
    auto cached = createListing(agent, "Cached before the outage");
    auto uncached = createListing(agent, "Never asked for before the outage");
    auto before = client_->send(get(cached));
    ASSERT_EQ(before.status, 200);
    std::this_thread::sleep_for(400ms);  // past fresh: only stale-if-error can answer it now
    pool_->close();
    ASSERT_EQ(testenv::stopPg(), 0);
    auto during = client_->send(get(cached));
    auto on_b = other_->send(get(cached));  // B never held it in L1: it comes from L2
    const auto started = Clock::now();
    auto missing = client_->send(get(uncached));
    const auto took = Clock::now() - started;
    ASSERT_EQ(testenv::startPg(), 0);
    EXPECT_EQ(during.status, 200);
    EXPECT_EQ(during.raw.body, before.raw.body);
    EXPECT_EQ(on_b.status, 200);
    EXPECT_EQ(on_b.raw.body, before.raw.body);
    EXPECT_EQ(missing.status, 503) << missing.raw.body;
    EXPECT_EQ(missing.raw.content_type, "application/problem+json");
    EXPECT_LT(took, 2s) << "the uncached read did not fail fast";
    SetUp();  // fresh pools on the restarted server
    EXPECT_EQ(client_->send(get(uncached)).status, 200);
}

TEST_F(CacheTest, AnswersCarryAnETagAndIfNoneMatchGets304) {
    auto agent = person("agent");
    auto id = createListing(agent, "Conditional");
    auto r = client_->send(get(id));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.raw.header("Cache-Control"), "public, no-cache");
    auto again = other_->send(get(id, std::string(r.raw.header("ETag"))));
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.raw.body.empty());
    EXPECT_EQ(again.raw.header("ETag"), r.raw.header("ETag"));
    EXPECT_EQ(client_->send(get(id, "\"7\", W/\"1\"")).status, 304);  // a list, a weak tag
    EXPECT_EQ(client_->send(get(id, "\"7\"")).status, 200);

    const std::string target = kSearch.target({}, "city=Mumbai&limit=3");
    auto page = client_->send({rt::Method::Get, target});
    ASSERT_EQ(page.status, 200);
    auto tag = std::string(page.raw.header("ETag"));
    ASSERT_FALSE(tag.empty());
    testing::ServiceClient::Call conditional{rt::Method::Get, target};
    conditional.headers.emplace_back("If-None-Match", tag);
    EXPECT_EQ(other_->send(conditional).status, 304);
    // The same search written another way shares the answer (and its tag).
    auto folded = other_->send({rt::Method::Get, kSearch.target({}, "limit=3&city=MUMBAI")});
    EXPECT_EQ(folded.raw.header("ETag"), tag);
    // A new listing in that city changes the page: the old tag no longer matches.
    createListing(agent, "A newer one");
    EXPECT_EQ(client_->send(conditional).status, 200);
}

TEST_F(CacheTest, ADraftIsCachedButShownToItsOwnerOnly) {
    auto agent = person("agent");
    auto draft = listing("Unfinished draft");
    draft["status"] = "draft";
    auto r = call(kCreate, {boost::json::serialize(draft), agent});
    ASSERT_EQ(r.status, 201);
    auto id = std::string(r.body.at("id").as_string());
    auto mine = get(id);
    mine.who = agent;
    auto owner = client_->send(mine);
    ASSERT_EQ(owner.status, 200);
    EXPECT_EQ(owner.raw.header("Cache-Control"), "private, no-cache");
    auto stranger = get(id);
    stranger.who = person("buyer");
    EXPECT_EQ(client_->send(stranger).status, 404);  // the cached answer is not theirs
    EXPECT_EQ(other_->send(get(id)).status, 404);
}

}  // namespace
}  // namespace restinu::property
