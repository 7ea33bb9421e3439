#include "settings.hpp"

#include "restinu/rt/config.hpp"

namespace restinu::notification {
namespace {

RetryPolicy readRetry(rt::Config& c, const std::string& channel, RetryPolicy fallback) {
    const std::string prefix = "notification." + channel + ".retry.";
    RetryPolicy p;
    p.max_attempts =
        static_cast<int>(c.integer(prefix + "attempts", fallback.max_attempts, 1, 100));
    p.base = c.duration(prefix + "base", fallback.base);
    p.max = c.duration(prefix + "max", fallback.max);
    return p;
}

}  // namespace

NotificationSettings readNotificationSettings(rt::Config& c) {
    NotificationSettings s;
    s.email_provider = c.oneOf("notification.email.provider", "smtp", {"smtp", "sendgrid", "none"});
    s.smtp.url = c.str("notification.smtp.url", s.smtp.url);
    if (!s.smtp.url.starts_with("smtp://") && !s.smtp.url.starts_with("smtps://")) {
        c.reject("notification.smtp.url", "must start with smtp:// or smtps://");
    }
    s.smtp.username = c.str("notification.smtp.username", "");
    s.smtp.password = c.str("notification.smtp.password", "");
    s.smtp.require_tls = c.boolean("notification.smtp.require_tls", false);
    s.smtp.from_address = c.str("notification.email.from_address", s.smtp.from_address);
    s.smtp.from_name = c.str("notification.email.from_name", s.smtp.from_name);
    s.smtp.timeout = c.duration("notification.smtp.timeout", s.smtp.timeout);

    s.sendgrid.url = c.str("notification.sendgrid.url", s.sendgrid.url);
    s.sendgrid.api_key = c.str("notification.sendgrid.api_key", "");
    s.sendgrid.from_email = s.smtp.from_address;
    s.sendgrid.from_name = s.smtp.from_name;
    if (s.email_provider == "sendgrid" && s.sendgrid.api_key.empty()) {
        c.reject("notification.sendgrid.api_key", "is required with email.provider sendgrid");
    }
    s.fcm.url = c.str("notification.fcm.url", s.fcm.url);
    s.fcm.service_account_file = c.str("notification.fcm.service_account_file", "");
    s.fcm.project_id = c.str("notification.fcm.project_id", "");
    s.twilio.url = c.str("notification.twilio.url", s.twilio.url);
    s.twilio.account_sid = c.str("notification.twilio.account_sid", "");
    s.twilio.auth_token = c.str("notification.twilio.auth_token", "");
    s.twilio.from = c.str("notification.twilio.from", "");
    if (!s.twilio.account_sid.empty() && (s.twilio.auth_token.empty() || s.twilio.from.empty())) {
        c.reject("notification.twilio.account_sid", "needs twilio.auth_token and twilio.from");
    }

    using std::chrono::hours;
    using std::chrono::minutes;
    using std::chrono::seconds;
    s.retry["email"] = readRetry(c, "email", {8, seconds(30), hours(2)});
    s.retry["push"] = readRetry(c, "push", {5, seconds(10), minutes(10)});
    s.retry["sms"] = readRetry(c, "sms", {5, seconds(30), hours(1)});
    s.retry["in_app"] = readRetry(c, "in_app", {3, seconds(1), seconds(10)});

    s.dispatch_enabled = c.boolean("notification.dispatch.enabled", true);
    s.dispatch.batch = static_cast<int>(c.integer("notification.dispatch.batch", 50, 1, 1000));
    s.dispatch.lease = c.duration("notification.dispatch.lease", s.dispatch.lease);
    s.dispatch.poll = c.duration("notification.dispatch.poll", s.dispatch.poll);

    s.links_base_url = c.str("notification.links.base_url", s.links_base_url);
    s.links_secret = c.str("notification.links.secret", "");
    if (!s.links_secret.empty() && s.links_secret.size() < 32) {
        c.reject("notification.links.secret", "must be at least 32 characters");
    }
    s.verify_ttl =
        std::chrono::duration_cast<seconds>(c.duration("notification.links.verify_ttl", hours(72)));
    s.app_url = c.str("notification.app_url", s.links_base_url);
    s.saved_search_limit =
        static_cast<int>(c.integer("notification.saved_searches.limit", 20, 1, 1000));
    return s;
}

}  // namespace restinu::notification
