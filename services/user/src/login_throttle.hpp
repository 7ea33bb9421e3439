#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// Failed-login throttling (OWASP ASVS 2.2.1; the policy is in docs/security.md). Failures are
/// counted per client address (the one the gateway signs, never the socket's) and per account
/// *from* that address; past a few free failures each further attempt from that address must
/// wait a delay that doubles per failure, up to a cap. Nothing locks an account as such: its
/// owner, from another address, signs in as usual while its attackers wait.
namespace restinu::user {

struct ThrottlePolicy {
    int free_failures = 3;  ///< failures before delays start
    std::chrono::seconds max_delay{15 * 60};
};

struct LoginThrottleSettings {
    ThrottlePolicy per_account_and_address{3, std::chrono::minutes(15)};
    /// One address trying many accounts (credential stuffing) gets more room before delays.
    ThrottlePolicy per_address{20, std::chrono::minutes(15)};
    /// Failures older than this no longer count.
    std::chrono::seconds window{3600};
};

/// The wait after the `failures`-th failure in the window: none up to the free failures, then
/// 2, 4, 8 ... seconds, never more than max_delay.
std::chrono::seconds throttleDelay(std::int64_t failures, const ThrottlePolicy& policy);

/// The throttle's keys for one login attempt, and its table (login_throttle).
class LoginThrottle {
public:
    LoginThrottle(const LoginThrottleSettings& settings, const std::string& client_ip,
                  const std::string& email);

    /// Seconds the caller must still wait, or nullopt when it may try now.
    rt::Task<std::optional<std::int64_t>> waitFor(rt::PgPool& pool) const;
    /// Counts a failure on both keys (a count from before the window starts again at one) and
    /// sets each key's wait from its new count. In the caller's transaction.
    rt::Task<void> failed(rt::PgConn& tx) const;
    /// A success forgets this address's failures on this account (not the address-wide count,
    /// which a credential stuffer's occasional hit must not reset).
    rt::Task<void> succeeded(rt::PgConn& tx) const;

    const std::string& addressKey() const { return address_key_; }
    const std::string& pairKey() const { return pair_key_; }

private:
    const LoginThrottleSettings& settings_;
    std::string address_key_;
    std::string pair_key_;
};

}  // namespace restinu::user
