#pragma once

// Shared by bus_test.cpp and bus_consumer_helper.cpp (the consumer that a test SIGKILLs).

#include <boost/json.hpp>
#include <string>

#include "restinu/rt/bus.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::testing {

/// The effect a test consumer applies: one row per event, in arrival order.
inline rt::EventHandler recordEffect(std::string group) {
    return [group = std::move(group)](rt::PgConn& tx, const rt::Event& e) -> rt::Task<void> {
        auto data = boost::json::parse(e.data).as_object();
        auto n = data.at("n").as_int64();
        co_await tx.query(
            "INSERT INTO bus_effects (consumer_group, aggregate_id, n, event_id) "
            "VALUES ($1, $2, $3, $4::uuid)",
            group, e.aggregate_id, n, e.id);
    };
}

constexpr std::string_view kTestSchema = R"sql(
CREATE TABLE IF NOT EXISTS bus_aggregates (id text PRIMARY KEY, n integer NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS bus_effects (
    arrival        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer_group text    NOT NULL,
    aggregate_id   text    NOT NULL,
    n              integer NOT NULL,
    event_id       uuid    NOT NULL,
    UNIQUE (consumer_group, event_id)
))sql";

}  // namespace restinu::testing
