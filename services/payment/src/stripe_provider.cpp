#include "stripe_provider.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>
#include <charconv>
#include <stdexcept>

#include "restinu/rt/digest.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/log.hpp"

namespace restinu::payment {
namespace {

namespace json = boost::json;
using Outcome = ProviderResult::Outcome;

std::string upper(std::string s) {
    for (auto& c : s) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return s;
}

std::string lower(std::string s) {
    for (auto& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

std::int64_t intOr0(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

std::string strOr(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

ProviderIntent intentOf(const json::object& o) {
    ProviderIntent pi;
    pi.id = strOr(o, "id");
    pi.status = strOr(o, "status");
    pi.amount = intOr0(o, "amount");
    pi.amount_received = intOr0(o, "amount_received");
    pi.currency = upper(strOr(o, "currency"));
    if (const auto* meta = o.if_contains("metadata"); meta != nullptr && meta->is_object()) {
        pi.restinu_intent = strOr(meta->as_object(), "restinu_intent");
    }
    // Refunds live on the charge (latest_charge, expanded).
    if (const auto* ch = o.if_contains("latest_charge"); ch != nullptr && ch->is_object()) {
        pi.amount_refunded = intOr0(ch->as_object(), "amount_refunded");
    }
    return pi;
}

ProviderResult resultOf(const rt::ClientResponse& res) {
    ProviderResult out;
    json::value body;
    boost::system::error_code ec;
    body = json::parse(res.body, ec);
    if (ec || !body.is_object()) {
        out.outcome = Outcome::Unavailable;
        out.message = "the provider answered " + std::to_string(res.status) + " without JSON";
        return out;
    }
    const auto& o = body.as_object();
    if (res.status >= 200 && res.status < 300) {
        out.outcome = Outcome::Ok;
        // A refund answers with the refund object; its intent is named in it.
        if (strOr(o, "object") == "refund") {
            out.intent.id = strOr(o, "payment_intent");
            out.intent.amount_refunded = intOr0(o, "amount");
        } else {
            out.intent = intentOf(o);
        }
        return out;
    }
    std::string code;
    std::string message;
    if (const auto* err = o.if_contains("error"); err != nullptr && err->is_object()) {
        code = strOr(err->as_object(), "code");
        message = strOr(err->as_object(), "message");
        if (const auto* pi = err->as_object().if_contains("payment_intent");
            pi != nullptr && pi->is_object()) {
            out.intent = intentOf(pi->as_object());
        }
    }
    out.code = code.empty() ? "http_" + std::to_string(res.status) : code;
    out.message = message.empty() ? "the provider answered " + std::to_string(res.status) : message;
    // 4xx other than 429 and 409 (a concurrent request with our key) is final; the rest is
    // worth asking again with the same key.
    const bool retry = res.status >= 500 || res.status == 429 || res.status == 409;
    out.outcome = retry ? Outcome::Unavailable : Outcome::Declined;
    return out;
}

bool hexEqual(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string formEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    auto encode = [&out](std::string_view s) {
        for (unsigned char c : s) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~') {
                out += static_cast<char>(c);
            } else {
                out += '%';
                out += kHex[c >> 4];
                out += kHex[c & 15];
            }
        }
    };
    for (const auto& [k, v] : fields) {
        if (!out.empty()) {
            out += '&';
        }
        encode(k);
        out += '=';
        encode(v);
    }
    return out;
}

rt::Task<ProviderResult> StripeProvider::post(std::string target,
                                              std::vector<std::pair<std::string, std::string>> form,
                                              std::string key) {
    rt::ClientRequest req;
    req.method = rt::Method::Post;
    req.host = settings_.host;
    req.port = settings_.port;
    req.target = std::move(target);
    req.timeout = settings_.timeout;
    req.body = formEncode(form);
    req.headers = {{"Authorization", "Bearer " + settings_.secret_key},
                   {"Content-Type", "application/x-www-form-urlencoded"},
                   {"Idempotency-Key", std::move(key)}};
    try {
        auto res = co_await http_.request(req);
        co_return resultOf(res);
    } catch (const rt::HttpClientError& e) {
        ProviderResult out;
        out.outcome = Outcome::Unavailable;
        out.code = e.kind() == rt::HttpClientError::Kind::Timeout ? "timeout" : "unreachable";
        out.message = std::string("the provider did not answer: ") + e.what();
        co_return out;
    }
}

rt::Task<ProviderResult> StripeProvider::authorise(const AuthoriseRequest& r, std::string key) {
    std::vector<std::pair<std::string, std::string>> form = {
        {"amount", std::to_string(r.amount)},
        {"currency", lower(r.currency)},
        {"capture_method", "manual"},
        {"confirm", "true"},
        {"payment_method", r.payment_method},
        {"metadata[restinu_intent]", r.intent_id},
        {"metadata[purchase_id]", r.purchase_id},
    };
    co_return co_await post("/v1/payment_intents", std::move(form), std::move(key));
}

rt::Task<ProviderResult> StripeProvider::capture(std::string provider_id, std::int64_t amount,
                                                 std::string key) {
    std::vector<std::pair<std::string, std::string>> form = {
        {"amount_to_capture", std::to_string(amount)}};
    co_return co_await post("/v1/payment_intents/" + provider_id + "/capture", std::move(form),
                            std::move(key));
}

rt::Task<ProviderResult> StripeProvider::cancel(std::string provider_id, std::string key) {
    std::vector<std::pair<std::string, std::string>> form;
    co_return co_await post("/v1/payment_intents/" + provider_id + "/cancel", std::move(form),
                            std::move(key));
}

rt::Task<ProviderResult> StripeProvider::refund(std::string provider_id, std::int64_t amount,
                                                std::string key) {
    std::vector<std::pair<std::string, std::string>> form = {
        {"payment_intent", std::move(provider_id)}, {"amount", std::to_string(amount)}};
    co_return co_await post("/v1/refunds", std::move(form), std::move(key));
}

rt::Task<json::object> StripeProvider::getJson(std::string target) {
    rt::ClientRequest req;
    req.host = settings_.host;
    req.port = settings_.port;
    req.target = std::move(target);
    req.timeout = settings_.timeout;
    req.headers = {{"Authorization", "Bearer " + settings_.secret_key}};
    auto res = co_await http_.request(req);
    if (res.status != 200) {
        throw std::runtime_error("the provider answered " + std::to_string(res.status) + " to " +
                                 req.target.substr(0, req.target.find('?')));
    }
    co_return json::parse(res.body).as_object();
}

rt::Task<std::optional<ProviderIntent>> StripeProvider::find(std::string intent_id) {
    std::vector<std::pair<std::string, std::string>> query = {
        {"query", "metadata['restinu_intent']:'" + intent_id + "'"},
        {"expand[]", "data.latest_charge"}};
    const auto body = co_await getJson("/v1/payment_intents/search?" + formEncode(query));
    for (const auto& item : body.at("data").as_array()) {
        co_return intentOf(item.as_object());
    }
    co_return std::nullopt;
}

rt::Task<ProviderIntent> StripeProvider::retrieve(std::string provider_id) {
    // Named, not a braced list inside co_await (g++ 12 rejects that).
    const std::vector<std::pair<std::string, std::string>> query = {{"expand[]", "latest_charge"}};
    const auto target = "/v1/payment_intents/" + provider_id + "?" + formEncode(query);
    const auto body = co_await getJson(target);
    co_return intentOf(body);
}

rt::Task<std::vector<ProviderIntent>> StripeProvider::list() {
    std::vector<ProviderIntent> out;
    std::string after;
    for (;;) {
        std::vector<std::pair<std::string, std::string>> query = {
            {"limit", "100"}, {"expand[]", "data.latest_charge"}};
        if (!after.empty()) {
            query.emplace_back("starting_after", after);
        }
        const auto body = co_await getJson("/v1/payment_intents?" + formEncode(query));
        for (const auto& item : body.at("data").as_array()) {
            out.push_back(intentOf(item.as_object()));
        }
        if (!body.at("has_more").as_bool() || out.empty()) {
            break;
        }
        after = out.back().id;
    }
    co_return out;
}

SignatureCheck verifyStripeSignature(std::string_view header, std::string_view payload,
                                     std::string_view secret, std::int64_t now_unix,
                                     std::int64_t tolerance_s) {
    std::string_view timestamp;
    std::vector<std::string_view> signatures;
    while (!header.empty()) {
        const auto comma = header.find(',');
        auto item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return SignatureCheck::Malformed;
        }
        const auto name = item.substr(0, eq);
        if (name == "t") {
            timestamp = item.substr(eq + 1);
        } else if (name == "v1") {
            signatures.push_back(item.substr(eq + 1));
        }
    }
    std::int64_t t = 0;
    auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), t);
    if (timestamp.empty() || ec != std::errc{} || end != timestamp.data() + timestamp.size() ||
        signatures.empty()) {
        return SignatureCheck::Malformed;
    }
    std::string signed_payload(timestamp);
    signed_payload += '.';
    signed_payload += payload;
    const auto expected = rt::hmacSha256Hex(secret, signed_payload);
    bool match = false;
    for (auto s : signatures) {
        match = hexEqual(s, expected) || match;
    }
    if (!match) {
        return SignatureCheck::BadSignature;
    }
    if (t < now_unix - tolerance_s || t > now_unix + tolerance_s) {
        return SignatureCheck::Stale;
    }
    return SignatureCheck::Valid;
}

std::string stripeSignature(std::string_view payload, std::string_view secret,
                            std::int64_t now_unix) {
    const auto t = std::to_string(now_unix);
    std::string signed_payload = t + "." + std::string(payload);
    return "t=" + t + ",v1=" + rt::hmacSha256Hex(secret, signed_payload);
}

}  // namespace restinu::payment
