#include "restinu/rt/identity.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "restinu/rt/digest.hpp"
#include "restinu/rt/spool.hpp"

namespace restinu::rt {
namespace {

constexpr std::string_view kPrefix = "x-restinu-";

std::string joinRoles(const std::vector<std::string>& roles) {
    std::string out;
    for (const auto& r : roles) {
        if (!out.empty()) {
            out += ',';
        }
        out += r;
    }
    return out;
}

// The SHA-256 of an empty body, computed once (most forwarded requests have none).
std::string_view emptyBodyDigest() {
    static const std::string digest = sha256Hex("");
    return digest;
}

// What the MAC covers: a version, the time, the request line, the request id, the body's
// digest and every identity field, each on its own line (none of them may hold a newline:
// header values cannot, and the digest is hex). Built in a per-thread buffer, which every
// request signs or checks once: no allocation once it has grown.
std::string_view canonical(std::int64_t ts, const SignedMessage& m, std::string_view user,
                           std::string_view roles, std::string_view session,
                           std::string_view client_ip) {
    thread_local std::string s;
    s.clear();
    char digits[24];
    auto [ts_end, ec] = std::to_chars(digits, digits + sizeof digits, ts);
    s.append("v2\n").append(digits, ts_end).append("\n");
    s.append(m.method).append("\n").append(m.target).append("\n");
    s.append(m.request_id).append("\n");
    if (!m.body_sha256.empty()) {
        s.append(m.body_sha256);
    } else if (m.body.empty()) {
        s.append(emptyBodyDigest());
    } else {
        s.append(sha256Hex(m.body));
    }
    s.append("\n").append(user).append("\n").append(roles).append("\n").append(session);
    s.append("\n").append(client_ip);
    return s;
}

std::vector<std::string> splitRoles(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto part = text.substr(0, comma);
        if (!part.empty()) {
            out.emplace_back(part);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return out;
}

IdentityCheck fail(std::string* why, std::string reason) {
    if (why != nullptr) {
        *why = std::move(reason);
    }
    return IdentityCheck::Invalid;
}

}  // namespace

bool isIdentityHeader(std::string_view name) {
    return name.size() >= kPrefix.size() && iequals(name.substr(0, kPrefix.size()), kPrefix);
}

void appendSignedIdentity(std::vector<std::pair<std::string, std::string>>& out,
                          std::string_view user_id, const std::vector<std::string>& roles,
                          std::string_view session_id, std::string_view client_ip,
                          const SignedMessage& message, std::string_view secret,
                          std::int64_t now_unix) {
    auto joined = joinRoles(roles);
    // "t=<unix seconds>,v2=<64 hex>", the MAC written straight into it.
    char digits[24];
    auto [ts_end, ec] = std::to_chars(digits, digits + sizeof digits, now_unix);
    std::string signature;
    signature.reserve(2 + static_cast<std::size_t>(ts_end - digits) + 4 + 64);
    signature.append("t=").append(digits, ts_end).append(",v2=");
    appendHmacSha256Hex(signature, secret,
                        canonical(now_unix, message, user_id, joined, session_id, client_ip));
    out.emplace_back(kIdentityUserHeader, user_id);
    out.emplace_back(kIdentityRolesHeader, std::move(joined));
    out.emplace_back(kIdentitySessionHeader, session_id);
    out.emplace_back(kIdentityClientIpHeader, client_ip);
    out.emplace_back(kIdentitySignatureHeader, std::move(signature));
}

std::vector<std::pair<std::string, std::string>> signIdentity(const Identity* who,
                                                              std::string_view client_ip,
                                                              const SignedMessage& message,
                                                              std::string_view secret,
                                                              std::int64_t now_unix) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(5);
    static const std::vector<std::string> kNoRoles;
    appendSignedIdentity(out, who != nullptr ? std::string_view(who->user_id) : "",
                         who != nullptr ? who->roles : kNoRoles,
                         who != nullptr ? std::string_view(who->session_id) : "", client_ip,
                         message, secret, now_unix);
    return out;
}

IdentityCheck verifyIdentity(const Request& req, std::string_view secret, std::int64_t now_unix,
                             std::chrono::seconds max_age, VerifiedIdentity* out,
                             std::string* why) {
    // One pass: whether any X-Restinu-* header came, and the first of each identity header.
    bool any = false;
    std::optional<std::string_view> first_sig;
    std::optional<std::string_view> first_user;
    std::optional<std::string_view> first_roles;
    std::optional<std::string_view> first_session;
    std::optional<std::string_view> first_ip;
    for (const auto& [name, value] : req.headers) {
        if (!isIdentityHeader(name)) {
            continue;
        }
        any = true;
        for (auto [slot, wanted] : {std::pair{&first_sig, kIdentitySignatureHeader},
                                    std::pair{&first_user, kIdentityUserHeader},
                                    std::pair{&first_roles, kIdentityRolesHeader},
                                    std::pair{&first_session, kIdentitySessionHeader},
                                    std::pair{&first_ip, kIdentityClientIpHeader}}) {
            if (!*slot && iequals(name, wanted)) {
                *slot = value;
            }
        }
    }
    if (!any) {
        return IdentityCheck::Absent;
    }
    std::string_view sig = first_sig.value_or("");
    std::string_view user = first_user.value_or("");
    std::string_view roles = first_roles.value_or("");
    std::string_view session = first_session.value_or("");
    std::string_view client_ip = first_ip.value_or("");
    if (secret.empty()) {
        return fail(why, "identity headers sent, but this service has no identity.secret");
    }
    // "t=<unix seconds>,v2=<64 hex>"
    if (sig.size() < 2 || sig.substr(0, 2) != "t=") {
        return fail(why, "identity signature missing or malformed");
    }
    auto comma = sig.find(",v2=");
    if (comma == std::string_view::npos) {
        return fail(why, "identity signature malformed (not v2)");
    }
    std::int64_t ts = 0;
    auto ts_text = sig.substr(2, comma - 2);
    auto [end, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
    if (ec != std::errc{} || end != ts_text.data() + ts_text.size()) {
        return fail(why, "identity timestamp malformed");
    }
    if (ts < now_unix - max_age.count() || ts > now_unix + max_age.count()) {
        return fail(why, "identity signature is stale");
    }
    auto given = sig.substr(comma + 4);
    SignedMessage message{req.method_name, req.target, req.header("X-Request-Id"), req.body,
                          req.spooled ? std::string_view(req.spooled->sha256()) : ""};
    thread_local std::string expected;
    expected.clear();
    appendHmacSha256Hex(expected, secret, canonical(ts, message, user, roles, session, client_ip));
    if (given.size() != expected.size() ||
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
        return fail(why, "identity signature does not match");
    }
    if (client_ip.empty()) {
        return fail(why, "identity without a client address");
    }
    if (out != nullptr) {
        out->user.reset();
        if (!user.empty()) {
            out->user = Identity{std::string(user), splitRoles(roles), std::string(session)};
        }
        out->client_ip = std::string(client_ip);
        out->mac = std::string(given);
        out->signed_at = ts;
    }
    return IdentityCheck::Valid;
}

struct ReplayCache::State {
    mutable std::mutex mu;
    std::size_t capacity;
    // mac → expiry, and the macs in the order they came (expiries grow with it but for clock
    // skew between gateways; the sweep stops at the first live one, which is good enough).
    std::unordered_map<std::string, std::int64_t> seen;
    std::deque<std::pair<std::int64_t, std::string>> order;
};

ReplayCache::ReplayCache(std::size_t capacity) : state_(std::make_unique<State>()) {
    state_->capacity = std::max<std::size_t>(1, capacity);
}

ReplayCache::~ReplayCache() = default;

bool ReplayCache::firstSeen(std::string_view mac, std::int64_t expires_unix,
                            std::int64_t now_unix) {
    auto& s = *state_;
    std::lock_guard lock(s.mu);
    while (!s.order.empty() && (s.order.front().first < now_unix || s.order.size() >= s.capacity)) {
        auto it = s.seen.find(s.order.front().second);
        if (it != s.seen.end() && it->second == s.order.front().first) {
            s.seen.erase(it);
        }
        s.order.pop_front();
    }
    auto [it, inserted] = s.seen.try_emplace(std::string(mac), expires_unix);
    if (!inserted) {
        if (it->second >= now_unix) {
            return false;
        }
        it->second = expires_unix;  // seen long ago, its window is over
    }
    s.order.emplace_back(expires_unix, it->first);
    return true;
}

std::size_t ReplayCache::size() const {
    std::lock_guard lock(state_->mu);
    return state_->seen.size();
}

}  // namespace restinu::rt
