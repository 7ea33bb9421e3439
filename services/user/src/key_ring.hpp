#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "key_vault.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

namespace restinu::user {

/// The access-token keys, kept in `signing_keys` (private keys sealed, key_vault.hpp). The newest
/// key whose `activates_at` has passed signs; the JWKS and the verifier hold every key that is not
/// retired, or retired less than a token's lifetime ago, including a key that activates later.
/// `rotateSigningKey` adds a key that activates after a delay longer than every instance's reload
/// interval, so every verifier (and the gateway's JWKS cache) knows the key before the first token
/// names it, and tokens signed with the old key keep verifying until they expire: a rotation logs
/// nobody out.
class KeyRing {
public:
    /// Private keys are stored sealed by `vault` (which must outlive the ring).
    KeyRing(std::string issuer, std::string audience, std::chrono::seconds ttl,
            const KeyVault& vault);

    /// (Re)loads the keys, creating the first one when none is active. Call it at start and then
    /// every `reload interval` on the thread that uses the ring.
    rt::Task<void> load(rt::PgPool& pool);

    const rt::TokenSigner& signer() const { return *signer_; }
    /// The same object for the ring's life (reloads change its keys, not the object).
    const rt::TokenVerifier& verifier() const { return verifier_; }
    const std::string& jwks() const { return jwks_; }
    std::chrono::seconds ttl() const { return ttl_; }

private:
    std::string issuer_;
    std::string audience_;
    std::chrono::seconds ttl_;
    const KeyVault& vault_;
    std::unique_ptr<rt::TokenSigner> signer_;
    rt::TokenVerifier verifier_;
    std::string jwks_;
};

/// Adds a new signing key that starts signing after `activate_in`, and retires the keys active
/// now from that moment. Returns the new key's kid.
rt::Task<std::string> rotateSigningKey(rt::PgPool& pool, const KeyVault& vault,
                                       std::chrono::seconds activate_in);

}  // namespace restinu::user
