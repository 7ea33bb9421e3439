#pragma once

#include <array>
#include <string_view>

/// What a user may switch, and what is on until they do (docs/notifications.md, "Preferences").
namespace restinu::notification {

inline constexpr std::array<std::string_view, 7> kCategories = {
    "security", "account", "listing", "saved_search", "purchase", "dividend", "marketing"};
inline constexpr std::array<std::string_view, 4> kChannels = {"email", "push", "sms", "in_app"};

inline bool knownCategory(std::string_view c) {
    for (auto k : kCategories) {
        if (k == c) {
            return true;
        }
    }
    return false;
}

inline bool knownChannel(std::string_view c) {
    for (auto k : kChannels) {
        if (k == c) {
            return true;
        }
    }
    return false;
}

/// Security messages (a new sign-in, the address verification) always go by e-mail and in-app.
inline bool locked(std::string_view category, std::string_view channel) {
    return category == "security" && (channel == "email" || channel == "in_app");
}

/// Without a stored choice: everything on, except SMS (it costs money and attention) outside
/// security.
inline bool enabledByDefault(std::string_view category, std::string_view channel) {
    return channel != "sms" || category == "security";
}

/// Marketing-like e-mail (saved-search alerts, news) carries a one-click unsubscribe link.
inline bool carriesUnsubscribe(std::string_view category) {
    return category == "saved_search" || category == "marketing";
}

}  // namespace restinu::notification
