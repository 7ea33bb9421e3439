#include "links.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include "restinu/rt/base64.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;

std::string hmac(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
    return {reinterpret_cast<const char*>(out), len};
}

std::optional<json::object> payloadObject(const std::optional<std::string>& payload) {
    if (!payload) {
        return std::nullopt;
    }
    json::error_code ec;
    auto v = json::parse(*payload, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    return std::move(v.as_object());
}

std::string field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

}  // namespace

LinkSigner::LinkSigner(std::string key, std::string base_url, std::chrono::seconds verify_ttl)
    : key_(std::move(key)), base_url_(std::move(base_url)), verify_ttl_(verify_ttl) {
    while (!base_url_.empty() && base_url_.back() == '/') {
        base_url_.pop_back();
    }
}

std::string LinkSigner::sign(const std::string& payload) const {
    return rt::base64UrlEncode(payload) + "." + rt::base64UrlEncode(hmac(key_, payload));
}

std::optional<std::string> LinkSigner::open(std::string_view token) const {
    if (token.size() > 2048) {
        return std::nullopt;
    }
    const auto dot = token.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    auto payload = rt::base64UrlDecode(token.substr(0, dot));
    auto mac = rt::base64UrlDecode(token.substr(dot + 1));
    if (!payload || !mac) {
        return std::nullopt;
    }
    const auto expected = hmac(key_, *payload);
    if (mac->size() != expected.size() ||
        CRYPTO_memcmp(mac->data(), expected.data(), expected.size()) != 0) {
        return std::nullopt;
    }
    return payload;
}

std::string LinkSigner::verifyUrl(const std::string& user_id, const std::string& email,
                                  std::int64_t now_unix) const {
    const auto payload = json::serialize(json::object{
        {"p", "verify"}, {"u", user_id}, {"e", email}, {"x", now_unix + verify_ttl_.count()}});
    return base_url_ + "/api/v1/notifications/verify-email?token=" + sign(payload);
}

std::string LinkSigner::unsubscribeUrl(const std::string& user_id,
                                       const std::string& category) const {
    const auto payload =
        json::serialize(json::object{{"p", "unsubscribe"}, {"u", user_id}, {"c", category}});
    return base_url_ + "/api/v1/notifications/unsubscribe?token=" + sign(payload);
}

std::optional<LinkSigner::Verification> LinkSigner::verification(std::string_view token,
                                                                 std::int64_t now_unix) const {
    auto o = payloadObject(open(token));
    if (!o || field(*o, "p") != "verify") {
        return std::nullopt;
    }
    const auto* x = o->if_contains("x");
    if (x == nullptr || !x->is_int64() || x->as_int64() < now_unix) {
        return std::nullopt;
    }
    Verification v{field(*o, "u"), field(*o, "e")};
    if (v.user_id.empty() || v.email.empty()) {
        return std::nullopt;
    }
    return v;
}

std::optional<LinkSigner::Unsubscribe> LinkSigner::unsubscribe(std::string_view token) const {
    auto o = payloadObject(open(token));
    if (!o || field(*o, "p") != "unsubscribe") {
        return std::nullopt;
    }
    Unsubscribe u{field(*o, "u"), field(*o, "c")};
    if (u.user_id.empty() || u.category.empty()) {
        return std::nullopt;
    }
    return u;
}

}  // namespace restinu::notification
