#include "sendgrid.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "http_api.hpp"
#include "restinu/rt/curl.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;

json::object address(const std::string& email, const std::string& name) {
    json::object o;
    o["email"] = email;
    if (!name.empty()) {
        o["name"] = name;
    }
    return o;
}

std::string mailSendBody(const SendGridSettings& s, const Outgoing& m) {
    json::object personalization;
    personalization["to"] = json::array{address(m.to, m.to_name)};
    json::object root;
    root["personalizations"] = json::array{std::move(personalization)};
    root["from"] = address(s.from_email, s.from_name);
    root["subject"] = m.subject;
    // SendGrid requires text/plain first when both parts are there, and refuses an empty value.
    json::array content;
    if (!m.text.empty()) {
        content.push_back(json::object{{"type", "text/plain"}, {"value", m.text}});
    }
    if (!m.html.empty()) {
        content.push_back(json::object{{"type", "text/html"}, {"value", m.html}});
    }
    root["content"] = std::move(content);
    // Comes back on every event webhook (delivered, bounce, spam report): how we find the
    // message again.
    root["custom_args"] = json::object{{"message_id", m.message_id}};
    if (!m.unsubscribe.empty()) {
        // RFC 8058 one-click unsubscribe, which Gmail and Yahoo require of bulk senders.
        root["headers"] = json::object{{"List-Unsubscribe", "<" + m.unsubscribe + ">"},
                                       {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
    }
    return json::serialize(root);
}

// SendGrid's refusals: {"errors":[{"message":"...","field":"...","help":...}]}.
std::string errorMessages(const std::string& body) {
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return {};
    }
    const auto* errors = v.as_object().if_contains("errors");
    if (errors == nullptr || !errors->is_array()) {
        return {};
    }
    std::string out;
    for (const auto& e : errors->as_array()) {
        const auto* message = e.is_object() ? e.as_object().if_contains("message") : nullptr;
        if (message != nullptr && message->is_string()) {
            out += out.empty() ? "" : "; ";
            out += message->as_string();
        }
    }
    return out;
}

}  // namespace

rt::Task<SendResult> SendGridChannel::send(const Outgoing& message) {
    // Everything the transfer reads lives in this frame until perform() returns.
    const std::string payload = mailSendBody(settings_, message);
    const std::string url = settings_.url + "/v3/mail/send";
    rt::CurlEasy easy;
    preparePost(easy, url, payload, settings_.timeout);
    easy.header("Authorization: Bearer " + settings_.api_key);
    easy.header("Content-Type: application/json");
    SendResult failure;
    const bool answered = co_await exchange(curl_, easy, "sendgrid", failure);
    if (!answered) {
        co_return failure;
    }
    const long status = easy.status();
    if (status >= 200 && status < 300) {
        // 202 is the documented answer; sandbox mode answers 200 (and no id).
        co_return SendResult::sent(std::string(easy.responseHeader("X-Message-Id")));
    }
    std::string why = "sendgrid answered " + std::to_string(status);
    if (const auto messages = errorMessages(easy.responseBody()); !messages.empty()) {
        why += ": " + messages;
    }
    why = clip(std::move(why));
    if (status == 429 || status >= 500) {
        co_return SendResult::retry(std::move(why));
    }
    co_return SendResult::permanent(std::move(why));
}

}  // namespace restinu::notification
