#include "twilio.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>

#include "http_api.hpp"
#include "restinu/rt/curl.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;

// RFC 4648 base64 with padding, as HTTP Basic wants (RFC 7617).
std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// Every byte but RFC 3986's unreserved ones as %XX, so a space is %20 and a '+' in an E.164
// number stays a plus (a bare '+' in a form is a space).
void appendEncoded(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (const unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
}

std::string messageForm(const std::string& to, const std::string& from, const std::string& body) {
    std::string out = "To=";
    appendEncoded(out, to);
    out += "&From=";
    appendEncoded(out, from);
    out += "&Body=";
    appendEncoded(out, body);
    return out;
}

// Twilio's answers: {"sid":"SM...",...} on 201; {"code":21211,"message":"...","status":400,
// "more_info":"..."} on a refusal.
struct Answer {
    std::string sid;
    std::int64_t code = 0;
    std::string message;
};

Answer parseAnswer(const std::string& body) {
    Answer a;
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return a;
    }
    const auto& o = v.as_object();
    if (const auto* sid = o.if_contains("sid"); sid != nullptr && sid->is_string()) {
        a.sid = sid->as_string();
    }
    if (const auto* code = o.if_contains("code"); code != nullptr && code->is_int64()) {
        a.code = code->as_int64();
    }
    if (const auto* message = o.if_contains("message");
        message != nullptr && message->is_string()) {
        a.message = message->as_string();
    }
    return a;
}

}  // namespace

TwilioChannel::TwilioChannel(rt::Curl& curl, TwilioSettings settings)
    : curl_(curl), settings_(std::move(settings)) {
    authorization_ =
        "Authorization: Basic " + base64(settings_.account_sid + ":" + settings_.auth_token);
}

rt::Task<SendResult> TwilioChannel::send(const Outgoing& message) {
    // Everything the transfer reads lives in this frame until perform() returns.
    const std::string payload = messageForm(message.to, settings_.from, message.text);
    const std::string url =
        settings_.url + "/2010-04-01/Accounts/" + settings_.account_sid + "/Messages.json";
    rt::CurlEasy easy;
    preparePost(easy, url, payload, settings_.timeout);
    easy.header(authorization_);
    easy.header("Content-Type: application/x-www-form-urlencoded");
    SendResult failure;
    const bool answered = co_await exchange(curl_, easy, "twilio", failure);
    if (!answered) {
        co_return failure;
    }
    const long status = easy.status();
    const Answer answer = parseAnswer(easy.responseBody());
    if (status >= 200 && status < 300) {
        co_return SendResult::sent(answer.sid);
    }
    std::string why = "twilio answered " + std::to_string(status);
    if (answer.code != 0) {
        // 21211 (not a valid number) and 21614 (not a mobile number) say the number is wrong:
        // like any other 4xx, no later attempt will do better.
        why += " (error " + std::to_string(answer.code) + ")";
    }
    if (!answer.message.empty()) {
        why += ": " + answer.message;
    }
    why = clip(std::move(why));
    if (status == 429 || status >= 500) {
        co_return SendResult::retry(std::move(why));
    }
    co_return SendResult::permanent(std::move(why));
}

}  // namespace restinu::notification
