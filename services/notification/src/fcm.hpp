#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "channel.hpp"

namespace restinu::rt {
class Curl;
}

/// Push through Firebase Cloud Messaging's HTTP v1 API. It takes an OAuth 2.0 access token,
/// which we get from Google's token endpoint with a JWT signed by a service account's RSA key
/// (RFC 7523) and keep until shortly before it expires.
namespace restinu::notification {

struct FcmSettings {
    std::string url = "https://fcm.googleapis.com";  ///< no trailing slash; tests use a stand-in
    /// A Google service-account key file (JSON with client_email, private_key, token_uri,
    /// project_id); its private key is a secret, never logged.
    std::string service_account_file;
    std::string project_id;  ///< "" uses the service account's
    std::chrono::milliseconds timeout{10'000};
};

/// @par Thread safety
/// Bound to the loop thread of its rt::Curl, like the Curl itself.
class FcmChannel final : public Channel {
public:
    /// Reads the service account now, so a bad file stops the service at start. Throws
    /// std::runtime_error when the file cannot be read, lacks a field, or its key is not an
    /// RSA private key in PEM.
    FcmChannel(rt::Curl& curl, FcmSettings settings);
    ~FcmChannel() override;
    FcmChannel(const FcmChannel&) = delete;
    FcmChannel& operator=(const FcmChannel&) = delete;

    std::string_view name() const override { return "push"; }
    std::string_view provider() const override { return "fcm"; }
    /// 200 is Sent (provider_id is the message's "name"); 401 drops the cached token and is
    /// Retry; 429, 5xx and transient transport failures are Retry; UNREGISTERED,
    /// INVALID_ARGUMENT and any other 4xx are Permanent. A token that could not be had is
    /// Retry: the message is not at fault.
    rt::Task<SendResult> send(const Outgoing& message) override;

private:
    struct Credentials;
    struct TokenFetch;
    /// An access token and how long Google says it lives, or why there is none.
    struct Token {
        std::string value;
        std::chrono::seconds lifetime{0};
        std::optional<SendResult> failure;
    };

    /// The cached token, or a new one; sends that need one while it is being fetched wait for
    /// that fetch instead of starting their own.
    rt::Task<Token> accessToken();
    rt::Task<Token> fetchToken();
    /// The RS256 JWT bearer assertion (RFC 7523) for the token endpoint, issued at `now_unix`.
    std::string assertion(std::int64_t now_unix) const;

    rt::Curl& curl_;
    FcmSettings settings_;
    std::unique_ptr<Credentials> credentials_;
    std::string send_url_;
    std::string token_;
    std::chrono::steady_clock::time_point token_until_{};
    std::shared_ptr<TokenFetch> fetching_;
};

}  // namespace restinu::notification
