#pragma once

#include <chrono>
#include <map>
#include <string>

#include "channel.hpp"
#include "dispatcher.hpp"
#include "fcm.hpp"
#include "sendgrid.hpp"
#include "smtp.hpp"
#include "twilio.hpp"

namespace restinu::rt {
class Config;
}

/// The notification service's configuration (docs/configuration.md, "notification.*").
namespace restinu::notification {

struct NotificationSettings {
    std::string email_provider = "smtp";  ///< smtp, sendgrid or none
    SmtpSettings smtp;
    SendGridSettings sendgrid;
    FcmSettings fcm;                           ///< push is on when service_account_file is set
    TwilioSettings twilio;                     ///< SMS is on when account_sid is set
    std::map<std::string, RetryPolicy> retry;  ///< per channel
    DispatchSettings dispatch;
    bool dispatch_enabled = true;
    std::string links_base_url = "http://127.0.0.1:8080";  ///< the gateway, as users reach it
    std::string links_secret;  ///< "" derives one from the identity secret
    std::chrono::seconds verify_ttl{std::chrono::hours(72)};
    std::string app_url;  ///< where in-app links lead ("" = links_base_url)
    int saved_search_limit = 20;
};

NotificationSettings readNotificationSettings(rt::Config& c);

}  // namespace restinu::notification
