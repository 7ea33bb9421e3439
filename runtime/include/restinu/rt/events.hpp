#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/task.hpp"

/// The event envelope every service emits and consumes (docs/events.md is the catalogue).
namespace restinu::rt {

class PgConn;

struct Event {
    std::string id;              ///< UUIDv7 (time-ordered), set by makeEvent
    std::string type;            ///< e.g. "property.created"
    int schema_version = 1;      ///< of `data`; bump on an incompatible change
    std::string occurred_at;     ///< RFC 3339 UTC with microseconds
    std::string aggregate_type;  ///< e.g. "property"; also names the stream events:<type>
    std::string aggregate_id;
    std::string trace_id;  ///< W3C traceparent of the request that caused it, or ""
    std::string data;      ///< a JSON object, as text
};

/// A new event with a fresh UUIDv7 id and the current time.
Event makeEvent(std::string type, std::string aggregate_type, std::string aggregate_id,
                std::string data_json, std::string trace_id = {}, int schema_version = 1);

/// A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sorts by creation time.
std::string newUuidV7();

/// True for the canonical 8-4-4-4-12 hex form of a UUID (any version, either case).
bool isUuid(std::string_view s);
/// The Unix milliseconds in a UUIDv7, or nullopt when `id` is not one.
std::optional<std::int64_t> uuidV7Millis(std::string_view id);

/// The Redis stream of an aggregate type: "events:<aggregate_type>".
std::string streamFor(std::string_view aggregate_type);

/// The stream entry's field/value pairs, and back. fromFields throws std::invalid_argument
/// naming the missing field.
std::vector<std::pair<std::string, std::string>> toFields(const Event& e);
Event fromFields(const std::vector<std::pair<std::string, std::string>>& fields);

/// Microseconds since the Unix epoch for an RFC 3339 UTC time as makeEvent writes it, or
/// nullopt. For latency metrics.
std::optional<std::int64_t> parseTimestampMicros(std::string_view rfc3339);
std::int64_t nowMicros();

/// Adds `event` to the outbox in the caller's transaction: it is published if and only if that
/// transaction commits. Nothing is ever published straight from a request handler.
Task<void> enqueueEvent(PgConn& tx, const Event& event);

/// Appends one row to the service's `audit_log` (runtime migration 0001) in the caller's
/// transaction: who (`actor`, a user id or "cli"), what (`action`), to which entity, under
/// which request (may be empty), with `details_json` (a JSON object).
Task<void> audit(PgConn& tx, std::string_view actor, std::string_view action,
                 std::string_view entity_type, std::string_view entity_id,
                 std::string_view request_id, std::string_view details_json = "{}");

}  // namespace restinu::rt
