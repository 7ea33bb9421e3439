#include "fcm.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "http_api.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/curl.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;
namespace net = boost::asio;

constexpr std::string_view kScope = "https://www.googleapis.com/auth/firebase.messaging";
constexpr std::int64_t kAssertionLifetime = 3600;  // the most Google accepts
// A token is dropped this long before Google's expiry, so none expires on its way to FCM.
constexpr std::chrono::seconds kTokenMargin{60};
std::string stringField(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

// The v1 message: FCM's data map takes string values only, so anything else in our JSON
// object travels as its JSON text for the app to parse.
std::optional<std::string> messageBody(const Outgoing& m) {
    json::object message;
    message["token"] = m.to;
    message["notification"] = json::object{{"title", m.subject}, {"body", m.text}};
    if (!m.data_json.empty()) {
        boost::system::error_code ec;
        const auto data = json::parse(m.data_json, ec);
        if (ec || !data.is_object()) {
            return std::nullopt;
        }
        json::object strings;
        for (const auto& [key, value] : data.as_object()) {
            strings[key] =
                value.is_string() ? value.as_string() : json::string(json::serialize(value));
        }
        message["data"] = std::move(strings);
    }
    return json::serialize(json::object{{"message", std::move(message)}});
}

// FCM's refusals: {"error":{"code":404,"message":"...","status":"NOT_FOUND","details":[{
// "@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}.
// The FCM error code says most (UNREGISTERED: the app is gone from that device), else the
// Google status.
std::string errorOf(const std::string& body) {
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    const auto* error = !ec && v.is_object() ? v.as_object().if_contains("error") : nullptr;
    if (error == nullptr || !error->is_object()) {
        return {};
    }
    const auto& e = error->as_object();
    std::string code = stringField(e, "status");
    if (const auto* details = e.if_contains("details"); details != nullptr && details->is_array()) {
        for (const auto& d : details->as_array()) {
            if (d.is_object() && !stringField(d.as_object(), "errorCode").empty()) {
                code = stringField(d.as_object(), "errorCode");
            }
        }
    }
    const std::string message = stringField(e, "message");
    return message.empty() ? code : code + ": " + message;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("fcm: cannot read the service account file " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
}

}  // namespace

struct FcmChannel::Credentials {
    std::string client_email;
    std::string token_uri;
    std::string project_id;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
};

// A token request in flight: the sends that wait for it sleep on `done`, which never expires
// and is cancelled when the answer is in.
struct FcmChannel::TokenFetch {
    explicit TokenFetch(const net::any_io_executor& ex)
        : done(ex, net::steady_timer::time_point::max()) {}
    net::steady_timer done;
    bool finished = false;
    Token result;
};

FcmChannel::FcmChannel(rt::Curl& curl, FcmSettings settings)
    : curl_(curl), settings_(std::move(settings)), credentials_(std::make_unique<Credentials>()) {
    std::string text = readFile(settings_.service_account_file);
    boost::system::error_code ec;
    auto account = json::parse(text, ec);
    OPENSSL_cleanse(text.data(), text.size());
    if (ec || !account.is_object()) {
        throw std::runtime_error("fcm: the service account file is not a JSON object");
    }
    auto& o = account.as_object();
    credentials_->client_email = stringField(o, "client_email");
    credentials_->token_uri = stringField(o, "token_uri");
    credentials_->project_id =
        settings_.project_id.empty() ? stringField(o, "project_id") : settings_.project_id;
    const auto* pem_value = o.if_contains("private_key");
    if (credentials_->client_email.empty() || credentials_->token_uri.empty() ||
        credentials_->project_id.empty() || pem_value == nullptr || !pem_value->is_string()) {
        throw std::runtime_error(
            "fcm: the service account needs client_email, private_key, token_uri and project_id");
    }
    auto& pem = o["private_key"].as_string();  // the one we just checked
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    credentials_->key.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                                : nullptr);
    OPENSSL_cleanse(pem.data(), pem.size());
    ERR_clear_error();
    if (!credentials_->key || EVP_PKEY_get_base_id(credentials_->key.get()) != EVP_PKEY_RSA) {
        throw std::runtime_error("fcm: the service account's private_key is not an RSA key");
    }
    send_url_ = settings_.url + "/v1/projects/" + credentials_->project_id + "/messages:send";
}

FcmChannel::~FcmChannel() = default;

std::string FcmChannel::assertion(std::int64_t now_unix) const {
    const json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
    const json::object claims{{"iss", credentials_->client_email},
                              {"scope", kScope},
                              {"aud", credentials_->token_uri},
                              {"iat", now_unix},
                              {"exp", now_unix + kAssertionLifetime}};
    std::string jwt = rt::base64UrlEncode(json::serialize(header)) + "." +
                      rt::base64UrlEncode(json::serialize(claims));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t size = 0;
    const auto* input = reinterpret_cast<const unsigned char*>(jwt.data());
    // An RSA key signs with PKCS #1 v1.5 padding by default: RS256 (RFC 7518 §3.3).
    if (!ctx ||
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, credentials_->key.get()) !=
            1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size, input, jwt.size()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("fcm: could not sign the token request");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, input,
                       jwt.size()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("fcm: could not sign the token request");
    }
    signature.resize(size);
    jwt += "." + rt::base64UrlEncode(signature);
    return jwt;
}

rt::Task<FcmChannel::Token> FcmChannel::fetchToken() {
    std::string form =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    try {
        // base64url and dots only: nothing to percent-encode.
        form += assertion(rt::unixSeconds());
    } catch (const std::exception& e) {
        co_return Token{{}, {}, SendResult::retry(e.what())};
    }
    rt::CurlEasy easy;
    preparePost(easy, credentials_->token_uri, form, settings_.timeout);
    easy.header("Content-Type: application/x-www-form-urlencoded");
    try {
        co_await curl_.perform(easy);
    } catch (const rt::CurlError& e) {
        co_return Token{
            {},
            {},
            SendResult::retry(std::string("fcm: the token endpoint did not answer: ") + e.what())};
    }
    // {"access_token":"ya29...","expires_in":3599,"token_type":"Bearer"}, or on a refusal
    // {"error":"invalid_grant","error_description":"..."}. A refusal is a problem of our
    // credentials or clock, not of the message: Retry, so that fixing them saves the queue.
    boost::system::error_code ec;
    const auto v = json::parse(easy.responseBody(), ec);
    const json::object empty;
    const auto& o = !ec && v.is_object() ? v.as_object() : empty;
    const std::string token = stringField(o, "access_token");
    if (easy.status() != 200 || token.empty()) {
        std::string why = "fcm: the token endpoint answered " + std::to_string(easy.status());
        if (const auto error = stringField(o, "error"); !error.empty()) {
            why += ": " + error;
            if (const auto description = stringField(o, "error_description");
                !description.empty()) {
                why += " (" + description + ")";
            }
        }
        co_return Token{{}, {}, SendResult::retry(clip(std::move(why)))};
    }
    std::chrono::seconds lifetime{3600};
    if (const auto* expires = o.if_contains("expires_in");
        expires != nullptr && expires->is_number()) {
        lifetime = std::chrono::seconds(static_cast<std::int64_t>(expires->to_number<double>()));
    }
    co_return Token{token, lifetime, std::nullopt};
}

rt::Task<FcmChannel::Token> FcmChannel::accessToken() {
    if (!token_.empty() && std::chrono::steady_clock::now() < token_until_) {
        co_return Token{token_, {}, std::nullopt};
    }
    if (fetching_) {
        const auto fetch = fetching_;
        while (!fetch->finished) {
            boost::system::error_code ec;
            co_await fetch->done.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
        co_return fetch->result;
    }
    const auto executor = co_await net::this_coro::executor;
    const auto fetch = std::make_shared<TokenFetch>(executor);
    fetching_ = fetch;
    try {
        fetch->result = co_await fetchToken();
    } catch (const std::exception& e) {
        // Waiters must wake whatever happened, or they would sleep forever.
        fetch->result = Token{{}, {}, SendResult::retry(std::string("fcm: ") + e.what())};
    }
    if (!fetch->result.failure) {
        token_ = fetch->result.value;
        token_until_ = std::chrono::steady_clock::now() + fetch->result.lifetime - kTokenMargin;
    }
    fetching_.reset();
    fetch->finished = true;
    fetch->done.cancel();
    co_return fetch->result;
}

rt::Task<SendResult> FcmChannel::send(const Outgoing& message) {
    const auto body = messageBody(message);
    if (!body) {
        co_return SendResult::permanent("fcm: the message's data is not a JSON object");
    }
    const Token token = co_await accessToken();
    if (token.failure) {
        co_return *token.failure;
    }
    rt::CurlEasy easy;
    preparePost(easy, send_url_, *body, settings_.timeout);
    easy.header("Authorization: Bearer " + token.value);
    easy.header("Content-Type: application/json");
    SendResult failure;
    const bool answered = co_await exchange(curl_, easy, "fcm", failure);
    if (!answered) {
        co_return failure;
    }
    const long status = easy.status();
    if (status >= 200 && status < 300) {
        boost::system::error_code ec;
        const auto v = json::parse(easy.responseBody(), ec);
        co_return SendResult::sent(!ec && v.is_object() ? stringField(v.as_object(), "name")
                                                        : std::string{});
    }
    std::string why = "fcm answered " + std::to_string(status);
    if (const auto error = errorOf(easy.responseBody()); !error.empty()) {
        why += " " + error;
    }
    why = clip(std::move(why));
    if (status == 401) {
        // Revoked or expired early: forget it (unless a newer one replaced it meanwhile), so
        // the next attempt asks for a new one.
        if (token_ == token.value) {
            token_.clear();
        }
        co_return SendResult::retry(std::move(why));
    }
    if (status == 429 || status >= 500) {
        co_return SendResult::retry(std::move(why));
    }
    // UNREGISTERED (404: the app left the device), INVALID_ARGUMENT (400), SENDER_ID_MISMATCH
    // (403): no later attempt will do better.
    co_return SendResult::permanent(std::move(why));
}

}  // namespace restinu::notification
