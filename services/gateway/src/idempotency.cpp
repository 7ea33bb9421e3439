#include "idempotency.hpp"

#include <charconv>

#include "restinu/rt/digest.hpp"
#include "route_table.hpp"

namespace restinu::gateway {
namespace {

void putField(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

std::optional<std::string_view> takeField(std::string_view& in) {
    auto colon = in.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return std::nullopt;
    }
    std::size_t len = 0;
    auto [p, ec] = std::from_chars(in.data(), in.data() + colon, len);
    if (ec != std::errc{} || p != in.data() + colon || len > in.size() - colon - 1) {
        return std::nullopt;
    }
    auto field = in.substr(colon + 1, len);
    in.remove_prefix(colon + 1 + len);
    return field;
}

}  // namespace

std::optional<std::string> parseIdempotencyKey(std::string_view h) {
    if (h.size() >= 2 && h.front() == '"' && h.back() == '"') {
        h = h.substr(1, h.size() - 2);
    }
    if (h.empty() || h.size() > 255) {
        return std::nullopt;
    }
    for (char c : h) {
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
            return std::nullopt;
        }
    }
    return std::string(h);
}

std::string requestFingerprint(std::string_view method, std::string_view target,
                               std::string_view body) {
    std::string data;
    data.reserve(method.size() + target.size() + body.size() + 32);
    putField(data, method);
    putField(data, target);
    putField(data, body);
    return rt::sha256Hex(data);
}

std::string idempotencyRedisKey(std::string_view caller, std::string_view key) {
    // The hash tag keeps a caller's keys on one Redis Cluster slot; the key is hashed so that
    // any client text is a safe Redis key of fixed size.
    return "idem:{" + std::string(caller) + "}:" + rt::sha256Hex(key);
}

std::string encodeAnswer(const StoredAnswer& a) {
    std::string out;
    out.reserve(a.body.size() + 256);
    putField(out, std::to_string(a.status));
    putField(out, a.content_type);
    putField(out, std::to_string(a.headers.size()));
    for (const auto& [k, v] : a.headers) {
        putField(out, k);
        putField(out, v);
    }
    putField(out, a.body);
    return out;
}

std::optional<StoredAnswer> decodeAnswer(std::string_view in) {
    StoredAnswer a;
    auto status = takeField(in);
    auto ct = takeField(in);
    auto count = takeField(in);
    if (!status || !ct || !count) {
        return std::nullopt;
    }
    auto [p1, e1] = std::from_chars(status->data(), status->data() + status->size(), a.status);
    std::size_t n = 0;
    auto [p2, e2] = std::from_chars(count->data(), count->data() + count->size(), n);
    if (e1 != std::errc{} || e2 != std::errc{} || a.status < 100 || a.status > 599 || n > 1000) {
        return std::nullopt;
    }
    a.content_type = std::string(*ct);
    for (std::size_t i = 0; i < n; ++i) {
        auto k = takeField(in);
        auto v = takeField(in);
        if (!k || !v) {
            return std::nullopt;
        }
        a.headers.emplace_back(std::string(*k), std::string(*v));
    }
    auto body = takeField(in);
    if (!body || !in.empty()) {
        return std::nullopt;
    }
    a.body = std::string(*body);
    return a;
}

std::string idempotencyIndexKey(std::string_view caller) {
    return "idemidx:{" + std::string(caller) + "}";
}

std::string_view idempotencyBeginScript() {
    return R"lua(
local v = redis.call('GET', KEYS[1])
if v then
  return v
end
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return 'X'
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), KEYS[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return ''
)lua";
}

std::string_view idempotencyFinishScript() {
    return R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], KEYS[1])
else
  local ttl = tonumber(ARGV[3])
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
  redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + ttl, KEYS[1])
  if redis.call('PTTL', KEYS[2]) < ttl then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return 1
)lua";
}

bool answerMayBeStored(int status,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
    if (status >= 500) {
        return false;
    }
    for (const auto& [name, value] : headers) {
        if (rt::iequals(name, "Cache-Control") && listHasToken(value, "no-store")) {
            return false;
        }
    }
    return true;
}

std::string lockValue(std::string_view fingerprint, std::string_view owner) {
    std::string v = "L";
    v.append(fingerprint);
    v.append(owner);
    return v;
}

std::string storedValue(std::string_view fingerprint, const StoredAnswer& a) {
    std::string v = "D";
    v.append(fingerprint);
    v += encodeAnswer(a);
    return v;
}

BeginReply readBeginReply(std::string_view v, std::string_view fingerprint) {
    using Kind = BeginReply::Kind;
    if (v.empty()) {
        return {Kind::Run, {}};
    }
    if (v == "X") {
        return {Kind::TooManyKeys, {}};
    }
    auto n = fingerprint.size();
    if (v.size() <= n + 1 || v.compare(1, n, fingerprint) != 0) {
        return {Kind::Reused, {}};
    }
    if (v[0] == 'L') {
        return {Kind::InUse, {}};
    }
    auto stored = v[0] == 'D' ? decodeAnswer(v.substr(n + 1)) : std::nullopt;
    if (!stored) {
        return {Kind::Unreadable, {}};
    }
    return {Kind::Replay, std::move(*stored)};
}

}  // namespace restinu::gateway
