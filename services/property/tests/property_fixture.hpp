#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <random>

#include "fresh_database.hpp"
#include "listing_handlers.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::property {

// The property handlers against a fresh properties database (one per test binary), called as
// the router would call them, with the identity the gateway would vouch for.
class PropertyTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        db_ = testenv::freshDatabase("properties", "property");
        projected_ = 0;  // a new database: its outbox starts again
    }
    static std::string conninfo() { return testenv::pgConninfo() + " dbname=" + db_; }

    void SetUp() override {
        rt::PgOptions o;
        o.conninfo = conninfo();
        o.size = 4;
        pool_ = std::make_unique<rt::PgPool>(io_, o, &metrics_);
        handlers_ = std::make_unique<ListingHandlers>(*pool_, *pool_);
    }
    void TearDown() override { pool_->close(); }

    struct Reply {
        int status;
        boost::json::value body;
        rt::Response raw;
    };

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

    Reply call(rt::Task<rt::Response> (ListingHandlers::*fn)(rt::Request&), const Call& c) {
        rt::Request req;
        req.body = c.body;
        req.request_id = "test";
        req.query = c.query;
        req.identity = c.who;
        req.headers = {{"Content-Type", "application/json"}};
        if (!c.if_match.empty()) {
            req.headers.emplace_back("If-Match", c.if_match);
        }
        if (!c.id.empty()) {
            req.params = {{"id", c.id}};
        }
        rt::Response res;
        try {
            res = rt::runBlocking(io_, (handlers_.get()->*fn)(req));
        } catch (const rt::ApiError& e) {
            res = rt::problemResponse(e.problem(), "/x", "test");
        }
        boost::json::value v;
        if (!res.body.empty()) {
            v = boost::json::parse(res.body);
        }
        return {res.status, v, res};
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
            io_, pool_->query("SELECT id::text, type, aggregate_id, data::text, seq "
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
            rt::runBlocking(io_, pool_->transaction([&e](rt::PgConn& tx) -> rt::Task<void> {
                co_await applyToReadModel(tx, e);
            }));
            projected_ = rows.getInt(i, 4);
        }
    }

    // Statements the pool has run so far (successful or not).
    std::uint64_t statementsRun() {
        auto& family = metrics_.counter("restinu_pg_queries_total",
                                        "PostgreSQL statements run, by outcome", {"pool", "outcome"});
        return family.labels({"primary", "ok"}).value() + family.labels({"primary", "error"}).value();
    }

    std::int64_t count(const std::string& sql, const std::string& arg) {
        return rt::runBlocking(io_, pool_->query(sql, arg)).getInt(0, 0);
    }

    static inline std::string db_;
    static inline std::int64_t projected_ = 0;
    // The pool's statement counter (restinu_pg_queries_total) tells tests what a call cost.
    rt::MetricsRegistry metrics_;
    boost::asio::io_context io_;
    std::unique_ptr<rt::PgPool> pool_;
    std::unique_ptr<ListingHandlers> handlers_;
};

}  // namespace restinu::property
