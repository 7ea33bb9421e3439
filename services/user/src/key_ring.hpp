#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "restinu/rt/jwt.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::user {

/// The access-token keys: the newest one signs; every key not retired for longer than a token
/// lives still verifies, so a rotation logs nobody out. Keys live in `signing_keys`; the first
/// instance to start creates one (`restinu user rotate-key` adds a new one).
class KeyRing {
public:
    KeyRing(std::string issuer, std::string audience, std::chrono::seconds ttl);

    /// Loads the keys, creating the first one when there is none.
    rt::Task<void> load(rt::PgPool& pool);

    const rt::TokenSigner& signer() const { return *signer_; }
    const rt::TokenVerifier& verifier() const { return *verifier_; }
    const std::string& jwks() const { return jwks_; }
    std::chrono::seconds ttl() const { return ttl_; }

private:
    std::string issuer_;
    std::string audience_;
    std::chrono::seconds ttl_;
    std::unique_ptr<rt::TokenSigner> signer_;
    std::unique_ptr<rt::TokenVerifier> verifier_;
    std::string jwks_;
};

}  // namespace restinu::user
