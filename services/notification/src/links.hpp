#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

/// Signed links in messages: e-mail verification (expiring) and one-click unsubscribe. A token
/// is base64url(payload JSON) "." base64url(HMAC-SHA256(key, payload)); nothing in it is secret,
/// nothing in it can be changed.
namespace restinu::notification {

class LinkSigner {
public:
    /// `key`: at least 32 bytes; `base_url`: where the gateway is reached (no trailing slash).
    LinkSigner(std::string key, std::string base_url, std::chrono::seconds verify_ttl);

    struct Verification {
        std::string user_id;
        std::string email;
    };
    struct Unsubscribe {
        std::string user_id;
        std::string category;
    };

    /// The verification link for `email`, valid for verify_ttl from `now_unix`.
    std::string verifyUrl(const std::string& user_id, const std::string& email,
                          std::int64_t now_unix) const;
    std::string unsubscribeUrl(const std::string& user_id, const std::string& category) const;

    /// The token's content if its signature holds (and, for verification, it has not expired).
    std::optional<Verification> verification(std::string_view token, std::int64_t now_unix) const;
    std::optional<Unsubscribe> unsubscribe(std::string_view token) const;

    const std::string& baseUrl() const { return base_url_; }
    std::int64_t verifyTtlHours() const { return verify_ttl_.count() / 3600; }

private:
    std::string sign(const std::string& payload) const;
    std::optional<std::string> open(std::string_view token) const;

    std::string key_;
    std::string base_url_;
    std::chrono::seconds verify_ttl_;
};

}  // namespace restinu::notification
