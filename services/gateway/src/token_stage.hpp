#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <string>
#include <variant>

#include "auth.hpp"
#include "limiter.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/task.hpp"
#include "settings.hpp"

namespace restinu::rt {
class Shard;
class Counter;
}  // namespace restinu::rt

/// Stage 1 of the gateway: who is calling. A bearer token is verified against the user service's
/// JWKS (once per token: verified tokens are cached per loop thread until they expire); a token
/// not seen before spends one of its address's token checks first, so forged tokens cannot buy
/// unlimited ECDSA work.
namespace restinu::gateway {

/// State every loop thread shares: the token verifier (thread-safe), the JWKS fetch gate.
struct TokenKeys {
    explicit TokenKeys(const Settings& s)
        : verifier(s.issuer, s.audience, s.jwt_leeway), gate(s.jwks_min_refresh) {}
    rt::TokenVerifier verifier;
    RefreshGate gate;
    std::atomic<bool> keys_loaded{false};
};

/// The caller's verified claims (null for an anonymous request), or why the request is refused.
using Caller = std::variant<TokenCache::Claims, rt::Problem>;

class TokenStage {
public:
    TokenStage(rt::Shard& shard, const Settings& settings, TokenKeys& keys);

    /// The claims of a token verified before, without suspending; nullopt when the request
    /// carries a token that must be checked first (then call check()).
    std::optional<TokenCache::Claims> cached(const rt::Request& req);

    /// Checks the request's bearer token: budget, signature, claims (fetching the JWKS once when
    /// the key is unknown). `req.client_ip` must be set.
    rt::Task<Caller> check(const rt::Request& req);

    /// Keeps the keys current: fetches the JWKS now, then every `jwks_refresh` (every second
    /// until the first success). Runs on one loop thread; stop() ends it.
    rt::Task<void> refreshLoop();
    void stop();

    /// The caller's identity for limits and idempotency keys: "u:<subject>" or "ip:<address>".
    static std::string callerKey(const TokenCache::Claims& claims, const rt::Request& req);

private:
    rt::Task<bool> refreshJwks();

    rt::Shard& shard_;
    const Settings& settings_;
    TokenKeys& keys_;
    TokenCache cache_;
    // Checks of uncached tokens per client address (this thread's share of the budget).
    LocalLimiter budget_;
    RatePolicy budget_policy_;
    std::int64_t budget_share_ = 1;
    rt::Counter* refused_ = nullptr;
    rt::Counter* limited_ = nullptr;
    boost::asio::steady_timer timer_;
    bool stopped_ = false;
};

}  // namespace restinu::gateway
