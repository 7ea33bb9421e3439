#include "restinu/notification/service.hpp"

#include <memory>
#include <set>

#include "commands.hpp"
#include "dispatcher.hpp"
#include "handlers.hpp"
#include "links.hpp"
#include "live.hpp"
#include "planner.hpp"
#include "restinu/rt/curl.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/pg.hpp"
#include "settings.hpp"

/// The notification service (docs/notifications.md): events in, messages out.
///   user.* and property.* events ──consumer──▶ planner: inbox item + one message per channel
///   messages ──dispatcher──▶ channel (SMTP or SendGrid, FCM, Twilio, Redis for the live stream)
namespace restinu::notification {

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "notification";
    s.commands = operatorCommands();
    s.configure = [](rt::Config& c) {
        auto settings = std::make_shared<NotificationSettings>(readNotificationSettings(c));
        return rt::WireFn{[settings](rt::Shard& shard) {
            const auto& cfg = *settings;
            // The link key: its own, or one derived from the identity secret (never that secret
            // itself), so that a deployment needs no further secret.
            std::string key = cfg.links_secret;
            if (key.empty()) {
                key = rt::hmacSha256Hex(shard.settings().identity_secret,
                                        "restinu notification links v1");
            }
            auto& links =
                shard.keep(std::make_unique<LinkSigner>(key, cfg.links_base_url, cfg.verify_ttl));

            auto& curl = shard.keep(std::make_unique<rt::Curl>(shard.io()));
            std::map<std::string, Route> routes;
            if (cfg.email_provider == "smtp") {
                routes["email"] = {&shard.keep(std::make_unique<SmtpChannel>(curl, cfg.smtp)),
                                   cfg.retry.at("email")};
            } else if (cfg.email_provider == "sendgrid") {
                routes["email"] = {
                    &shard.keep(std::make_unique<SendGridChannel>(curl, cfg.sendgrid)),
                    cfg.retry.at("email")};
            }
            if (!cfg.fcm.service_account_file.empty()) {
                routes["push"] = {&shard.keep(std::make_unique<FcmChannel>(curl, cfg.fcm)),
                                  cfg.retry.at("push")};
            }
            if (!cfg.twilio.account_sid.empty()) {
                routes["sms"] = {&shard.keep(std::make_unique<TwilioChannel>(curl, cfg.twilio)),
                                 cfg.retry.at("sms")};
            }
            routes["in_app"] = {&shard.keep(std::make_unique<LiveChannel>(shard.redis())),
                                cfg.retry.at("in_app")};

            std::set<std::string> configured;
            for (const auto& [name, _] : routes) {
                configured.insert(name);
            }
            auto& planner = shard.keep(std::make_unique<Planner>(
                links, configured, cfg.app_url.empty() ? cfg.links_base_url : cfg.app_url));
            shard.consume("notification", {"user", "property"},
                          [&planner](rt::PgConn& tx, const rt::Event& e) -> rt::Task<void> {
                              co_await planner.apply(tx, e);
                          });
            // One dispatcher per instance (several instances share the queue safely).
            if (cfg.dispatch_enabled && shard.index() == 0) {
                auto& d = shard.keep(std::make_unique<Dispatcher>(
                    shard.io(), shard.pg(), shard.settings().pg_conninfo, routes, cfg.dispatch,
                    shard.metrics()));
                d.start();
            }

            auto& h =
                shard.keep(std::make_unique<Handlers>(shard.pg(), links, cfg.saved_search_limit));
            auto& r = shard.router();
            const auto signed_in = rt::Access::authenticated();
            const auto anyone = rt::Access::none();
            using H = Handlers;
            auto bind = [&h](rt::Task<rt::Response> (H::*fn)(rt::Request&)) {
                return [&h, fn](rt::Request& q) { return (h.*fn)(q); };
            };
            r.get("/api/v1/notifications", signed_in, bind(&H::list));
            r.post("/api/v1/notifications/{id}/read", signed_in, bind(&H::markRead));
            r.post("/api/v1/notifications/read-all", signed_in, bind(&H::markAllRead));
            r.get("/api/v1/users/me/notification-preferences", signed_in, bind(&H::preferences));
            r.put("/api/v1/users/me/notification-preferences", signed_in, bind(&H::setPreferences));
            r.post("/api/v1/users/me/push-devices", signed_in, bind(&H::addDevice));
            r.del("/api/v1/users/me/push-devices/{token}", signed_in, bind(&H::removeDevice));
            r.post("/api/v1/saved-searches", signed_in, bind(&H::createSavedSearch));
            r.get("/api/v1/saved-searches", signed_in, bind(&H::savedSearches));
            r.del("/api/v1/saved-searches/{id}", signed_in, bind(&H::deleteSavedSearch));
            // Followed from an e-mail: the signed token is the check.
            r.get("/api/v1/notifications/verify-email", anyone, bind(&H::verifyEmail));
            r.get("/api/v1/notifications/unsubscribe", anyone, bind(&H::unsubscribe));
            r.post("/api/v1/notifications/unsubscribe", anyone, bind(&H::unsubscribe));
        }};
    };
    return s;
}

}  // namespace restinu::notification
