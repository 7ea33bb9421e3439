#include "restinu/rt/identity.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <optional>

#include "restinu/rt/digest.hpp"

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

// What the MAC covers: a version, the time, the request line and every identity field, each on
// its own line (none of them may hold a newline: header values cannot). Built in a per-thread
// buffer, which every request signs or checks once: no allocation once it has grown.
std::string_view canonical(std::int64_t ts, std::string_view method, std::string_view target,
                           std::string_view user, std::string_view roles,
                           std::string_view session) {
    thread_local std::string s;
    s.clear();
    char digits[24];
    auto [ts_end, ec] = std::to_chars(digits, digits + sizeof digits, ts);
    s.append("v1\n").append(digits, ts_end).append("\n");
    s.append(method).append("\n").append(target).append("\n");
    s.append(user).append("\n").append(roles).append("\n").append(session);
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
                          std::string_view session_id, std::string_view method,
                          std::string_view target, std::string_view secret, std::int64_t now_unix) {
    auto joined = joinRoles(roles);
    // "t=<unix seconds>,v1=<64 hex>", the MAC written straight into it.
    char digits[24];
    auto [ts_end, ec] = std::to_chars(digits, digits + sizeof digits, now_unix);
    std::string signature;
    signature.reserve(2 + static_cast<std::size_t>(ts_end - digits) + 4 + 64);
    signature.append("t=").append(digits, ts_end).append(",v1=");
    appendHmacSha256Hex(signature, secret,
                        canonical(now_unix, method, target, user_id, joined, session_id));
    out.emplace_back(kIdentityUserHeader, user_id);
    out.emplace_back(kIdentityRolesHeader, std::move(joined));
    out.emplace_back(kIdentitySessionHeader, session_id);
    out.emplace_back(kIdentitySignatureHeader, std::move(signature));
}

std::vector<std::pair<std::string, std::string>> signIdentity(const Identity& who,
                                                              std::string_view method,
                                                              std::string_view target,
                                                              std::string_view secret,
                                                              std::int64_t now_unix) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(4);
    appendSignedIdentity(out, who.user_id, who.roles, who.session_id, method, target, secret,
                         now_unix);
    return out;
}

IdentityCheck verifyIdentity(const Request& req, std::string_view secret, std::int64_t now_unix,
                             std::chrono::seconds max_age, Identity* out, std::string* why) {
    // One pass: whether any X-Restinu-* header came, and the first of each identity header.
    bool any = false;
    std::optional<std::string_view> first_sig;
    std::optional<std::string_view> first_user;
    std::optional<std::string_view> first_roles;
    std::optional<std::string_view> first_session;
    for (const auto& [name, value] : req.headers) {
        if (!isIdentityHeader(name)) {
            continue;
        }
        any = true;
        for (auto [slot, wanted] : {std::pair{&first_sig, kIdentitySignatureHeader},
                                    std::pair{&first_user, kIdentityUserHeader},
                                    std::pair{&first_roles, kIdentityRolesHeader},
                                    std::pair{&first_session, kIdentitySessionHeader}}) {
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
    if (secret.empty()) {
        return fail(why, "identity headers sent, but this service has no identity.secret");
    }
    // "t=<unix seconds>,v1=<64 hex>"
    if (sig.size() < 2 || sig.substr(0, 2) != "t=") {
        return fail(why, "identity signature missing or malformed");
    }
    auto comma = sig.find(",v1=");
    if (comma == std::string_view::npos) {
        return fail(why, "identity signature malformed");
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
    thread_local std::string expected;
    expected.clear();
    appendHmacSha256Hex(expected, secret,
                        canonical(ts, req.method_name, req.target, user, roles, session));
    if (given.size() != expected.size() ||
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
        return fail(why, "identity signature does not match");
    }
    if (user.empty()) {
        return fail(why, "identity without a user id");
    }
    if (out != nullptr) {
        out->user_id = std::string(user);
        out->roles = splitRoles(roles);
        out->session_id = std::string(session);
    }
    return IdentityCheck::Valid;
}

}  // namespace restinu::rt
