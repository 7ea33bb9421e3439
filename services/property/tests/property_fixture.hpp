#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <random>

#include "cached_answers.hpp"
#include "fresh_database.hpp"
#include "listing_handlers.hpp"
#include "restinu/property/service.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/redis.hpp"
#include "service_client.hpp"

namespace restinu::property {

using testing::Route;

namespace routes {
inline constexpr Route kCreate{rt::Method::Post, "/api/v1/properties"};
inline constexpr Route kSearch{rt::Method::Get, "/api/v1/properties"};
inline constexpr Route kGet{rt::Method::Get, "/api/v1/properties/{id}"};
inline constexpr Route kUpdate{rt::Method::Patch, "/api/v1/properties/{id}"};
inline constexpr Route kWithdraw{rt::Method::Delete, "/api/v1/properties/{id}"};
inline constexpr Route kMine{rt::Method::Get, "/api/v1/users/me/listings"};
}  // namespace routes
using namespace routes;

// The property service as `restinu property` wires it (routes, access rules, middleware,
// problems) against a fresh properties database (one per test binary), through the in-process
// client: each request arrives signed as the gateway sends it. Its event consumers are off
// (bus.consume: false): project() feeds the read model from the outbox, in order.
class PropertyTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        db_ = testenv::freshDatabase("properties", "property");
        projected_ = 0;  // a new database: its outbox starts again
    }
    static std::string conninfo() { return testenv::pgConninfo() + " dbname=" + db_; }

    static std::string config() {
        return "pg:\n  url: \"" + testenv::pgConninfo() + "\"\n  database: " + db_ +
               "\n  pool_size: 4\nredis:\n  port: " + std::to_string(testenv::redisPort()) +
               "\nidentity:\n  secret: \"test-identity-secret-of-at-least-32-chars\"\n"
               "bus:\n  consume: false\nlog:\n  access: false\n";
    }

    void SetUp() override {
        invalidator_.reset();  // set up again within a test: the old clients go before its loop
        redis_.reset();
        if (pool_) {
            pool_->close();
            pool_.reset();
        }
        auto s = spec();
        // The registry's database name; the config names the test's own.
        s.database = std::string(registry::find("property")->database);
        client_ = std::make_unique<testing::ServiceClient>(s, serviceConfig());
        rt::PgOptions o;
        o.conninfo = conninfo();
        o.size = 4;
        pool_ = std::make_unique<rt::PgPool>(io(), o);
    }
    /// The service's configuration for this suite (config() unless a suite changes it).
    virtual std::string serviceConfig() const { return config(); }

    void TearDown() override {
        invalidator_.reset();
        if (redis_) {
            redis_->close();
            redis_.reset();
        }
        pool_->close();
    }

    /// The service's loop; the test's pool and tasks run on it.
    boost::asio::io_context& io() { return client_->io(); }

    using Reply = testing::ServiceClient::Reply;

    struct Call {
        Call(std::string b = "", std::optional<rt::Identity> w = std::nullopt, std::string i = "",
             std::string q = "", std::string m = "")
            : body(std::move(b)),
              who(std::move(w)),
              id(std::move(i)),
              query(std::move(q)),
              if_match(std::move(m)) {}
        std::string body;
        std::optional<rt::Identity> who;
        std::string id;
        std::string query;
        std::string if_match;
    };

    /// The request to `route` as the gateway forwards it, `c.who` its signed caller.
    Reply call(Route route, const Call& c) {
        testing::ServiceClient::Call req{route.method, route.target({{"id", c.id}}, c.query),
                                         c.body};
        req.who = c.who;
        if (!c.if_match.empty()) {
            req.headers.emplace_back("If-Match", c.if_match);
        }
        return client_->send(req);
    }

    static rt::Identity person(const std::string& role) {
        return rt::Identity{rt::newUuidV7(), {role}, "s"};
    }

    static boost::json::object listing(const std::string& title = "3 BHK Apartment in Powai") {
        return boost::json::object{
            {"title", title},
            {"description", "Sunlit east-facing home close to the lake."},
            {"property_type", "apartment"},
            {"status", "active"},
            {"price", boost::json::object{{"amount", 1'85'00'000'00}, {"currency", "INR"}}},
            {"bedrooms", 3},
            {"bathrooms", 2},
            {"area_sqft", 1250},
            {"address", boost::json::object{{"line", "12 Lake Road"},
                                            {"locality", "Powai"},
                                            {"city", "Mumbai"},
                                            {"state", "Maharashtra"},
                                            {"postal_code", "400076"},
                                            {"country", "IN"}}},
            {"location", boost::json::object{{"lat", 19.1176}, {"lng", 72.9060}}},
            {"facing", "E"},
            {"amenities", boost::json::array{"parking", "gym"}},
        };
    }

    // Applies every property event in the outbox not applied yet, in order, as the projection
    // consumer would.
    void project() {
        auto rows = rt::runBlocking(
            io(), pool_->query("SELECT id::text, type, aggregate_id, data::text, seq "
                               "FROM restinu_outbox WHERE aggregate_type = 'property' "
                               "AND seq > $1::bigint ORDER BY seq",
                               projected_));
        for (std::size_t i = 0; i < rows.rows(); ++i) {
            rt::Event e;
            e.id = rows.get(i, 0);
            e.type = rows.get(i, 1);
            e.aggregate_type = "property";
            e.aggregate_id = rows.get(i, 2);
            e.data = rows.get(i, 3);
            rt::runBlocking(io(), pool_->transaction([&e](rt::PgConn& tx) -> rt::Task<void> {
                co_await applyToReadModel(tx, e);
            }));
            projected_ = rows.getInt(i, 4);
            // What the service's projection does after each commit: no cached search or
            // listing from before it is answered again.
            rt::runBlocking(io(), invalidator().invalidate(std::string(kSearchGroup)));
            rt::runBlocking(io(), invalidator().invalidate(listingKey(e.aggregate_id)));
        }
    }

    // A cache of the service's name (as another instance would hold), to invalidate with.
    rt::Cache& invalidator() {
        if (!invalidator_) {
            rt::RedisOptions r;
            r.port = testenv::redisPort();
            redis_ = std::make_unique<rt::Redis>(io(), r);
            rt::CacheOptions o;
            o.name = "property/" + db_;
            invalidator_ = std::make_unique<rt::Cache>(io(), *redis_, r, o);
        }
        return *invalidator_;
    }

    // Statements the service's pools have run so far (successful or not).
    std::uint64_t statementsRun() {
        auto& family = client_->metrics().counter("restinu_pg_queries_total",
                                                  "PostgreSQL statements run, by outcome",
                                                  {"pool", "outcome"});
        return family.labels({"primary", "ok"}).value() +
               family.labels({"primary", "error"}).value();
    }

    std::int64_t count(const std::string& sql, const std::string& arg) {
        return rt::runBlocking(io(), pool_->query(sql, arg)).getInt(0, 0);
    }

    static inline std::string db_;
    static inline std::int64_t projected_ = 0;
    std::unique_ptr<testing::ServiceClient> client_;  // first: it owns the loop
    std::unique_ptr<rt::PgPool> pool_;
    std::unique_ptr<rt::Redis> redis_;
    std::unique_ptr<rt::Cache> invalidator_;
};

}  // namespace restinu::property
