#include "restinu/rt/events.hpp"

#include <cctype>
#include <charconv>
#include <ctime>
#include <random>
#include <stdexcept>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::rt {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string formatMicros(std::int64_t micros) {
    std::time_t secs = micros / 1'000'000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros % 1'000'000));
    return buf;
}

int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::int64_t nowMicros() {
    return unixMicros();
}

bool isUuid(std::string_view s) {
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (s[i] == '-') ||
            (!dash && std::isxdigit(static_cast<unsigned char>(s[i])) == 0)) {
            return false;
        }
    }
    return true;
}

std::string newUuidV7() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto ms = static_cast<std::uint64_t>(nowMicros() / 1000);
    std::uint8_t b[16];
    for (int i = 0; i < 6; ++i) {
        b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
    }
    auto r1 = rng();
    auto r2 = rng();
    for (int i = 6; i < 16; ++i) {
        auto src = i < 14 ? r1 : r2;
        b[i] = static_cast<std::uint8_t>(src >> (8 * (i % 8)));
    }
    b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
    b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));  // variant 10
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += kHex[b[i] >> 4];
        out += kHex[b[i] & 0xf];
    }
    return out;
}

std::optional<std::int64_t> uuidV7Millis(std::string_view id) {
    if (id.size() != 36 || id[8] != '-' || id[13] != '-' || id[14] != '7') {
        return std::nullopt;
    }
    std::int64_t ms = 0;
    for (std::size_t i = 0; i < 13; ++i) {
        if (i == 8) {
            continue;
        }
        int d = hexDigit(id[i]);
        if (d < 0) {
            return std::nullopt;
        }
        ms = ms * 16 + d;
    }
    return ms;
}

Event makeEvent(std::string type, std::string aggregate_type, std::string aggregate_id,
                std::string data_json, std::string trace_id, int schema_version) {
    Event e;
    e.id = newUuidV7();
    e.type = std::move(type);
    e.schema_version = schema_version;
    e.occurred_at = formatMicros(nowMicros());
    e.aggregate_type = std::move(aggregate_type);
    e.aggregate_id = std::move(aggregate_id);
    e.trace_id = std::move(trace_id);
    e.data = std::move(data_json);
    return e;
}

std::string streamFor(std::string_view aggregate_type) {
    return "events:" + std::string(aggregate_type);
}

std::vector<std::pair<std::string, std::string>> toFields(const Event& e) {
    return {{"id", e.id},
            {"type", e.type},
            {"schema_version", std::to_string(e.schema_version)},
            {"occurred_at", e.occurred_at},
            {"aggregate_type", e.aggregate_type},
            {"aggregate_id", e.aggregate_id},
            {"trace_id", e.trace_id},
            {"data", e.data}};
}

Event fromFields(const std::vector<std::pair<std::string, std::string>>& fields) {
    Event e;
    bool seen[8] = {};
    for (const auto& [k, v] : fields) {
        if (k == "id") {
            e.id = v;
            seen[0] = true;
        } else if (k == "type") {
            e.type = v;
            seen[1] = true;
        } else if (k == "schema_version") {
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), e.schema_version);
            seen[2] = ec == std::errc{} && p == v.data() + v.size();
        } else if (k == "occurred_at") {
            e.occurred_at = v;
            seen[3] = true;
        } else if (k == "aggregate_type") {
            e.aggregate_type = v;
            seen[4] = true;
        } else if (k == "aggregate_id") {
            e.aggregate_id = v;
            seen[5] = true;
        } else if (k == "trace_id") {
            e.trace_id = v;
            seen[6] = true;
        } else if (k == "data") {
            e.data = v;
            seen[7] = true;
        }
    }
    static constexpr const char* kNames[] = {
        "id",       "type", "schema_version", "occurred_at", "aggregate_type", "aggregate_id",
        "trace_id", "data"};
    for (int i = 0; i < 8; ++i) {
        if (!seen[i]) {
            throw std::invalid_argument(std::string("event entry lacks a valid ") + kNames[i]);
        }
    }
    return e;
}

std::optional<std::int64_t> parseTimestampMicros(std::string_view t) {
    // YYYY-MM-DDTHH:MM:SS.ffffffZ
    if (t.size() != 27 || t[4] != '-' || t[10] != 'T' || t[19] != '.' || t[26] != 'Z') {
        return std::nullopt;
    }
    auto num = [&](std::size_t pos, std::size_t len) -> int {
        int v = 0;
        auto [p, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, v);
        return ec == std::errc{} && p == t.data() + pos + len ? v : -1;
    };
    std::tm tm{};
    tm.tm_year = num(0, 4) - 1900;
    tm.tm_mon = num(5, 2) - 1;
    tm.tm_mday = num(8, 2);
    tm.tm_hour = num(11, 2);
    tm.tm_min = num(14, 2);
    tm.tm_sec = num(17, 2);
    int micros = num(20, 6);
    if (tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0 ||
        micros < 0) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000 + micros;
}

Task<void> enqueueEvent(PgConn& tx, const Event& e) {
    co_await tx.execute("restinu_outbox_insert",
                        "INSERT INTO restinu_outbox (id, type, schema_version, occurred_at, "
                        "aggregate_type, aggregate_id, trace_id, data) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
                        e.id, e.type, e.schema_version, e.occurred_at, e.aggregate_type,
                        e.aggregate_id, e.trace_id, e.data);
}

Task<void> audit(PgConn& tx, std::string_view actor, std::string_view action,
                 std::string_view entity_type, std::string_view entity_id,
                 std::string_view request_id, std::string_view details_json) {
    co_await tx.query(
        "INSERT INTO audit_log (actor_id, action, entity_type, entity_id, request_id, details) "
        "VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6::jsonb)",
        actor, action, entity_type, entity_id, request_id, details_json);
}

}  // namespace restinu::rt
