#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Access tokens: ES256 (ECDSA P-256) signed JWTs. The user service signs them; the gateway and
/// the services verify them with the public keys that the user service publishes as a JWKS.
/// libjwt does the JWS encoding and the signature checks; keys are OpenSSL 3 EVP keys in PEM.
namespace restinu::rt {

/// One signing key: `kid` names it in token headers and in the JWKS.
struct SigningKey {
    std::string kid;
    std::string private_pem;  ///< PKCS#8 PEM; secret, never logged
    std::string public_pem;   ///< SubjectPublicKeyInfo PEM
};

/// A new P-256 key pair. Throws std::runtime_error if OpenSSL fails.
SigningKey generateSigningKey(std::string kid);

/// The public JWK of a P-256 key: {"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"use":"sig",
/// "alg":"ES256"}, coordinates as unpadded base64url of 32 bytes. Throws std::invalid_argument if
/// the PEM is not a P-256 public key.
std::string jwkFromPublicPem(const std::string& kid, const std::string& public_pem);

/// The SubjectPublicKeyInfo PEM of a public JWK (RFC 7517/7518: "kty":"EC", "crv":"P-256", "x"
/// and "y" as unpadded base64url of 32 bytes each); the inverse of jwkFromPublicPem. Throws
/// std::invalid_argument for anything else (other curves, RSA, private keys are not looked at,
/// a point not on the curve).
std::string publicPemFromJwk(std::string_view jwk_json);

/// The (kid, public PEM) pairs of a JWKS document ({"keys":[...]}), for TokenVerifier::setKeys.
/// Keys that are not ES256 signing keys (another kty or crv, "use" other than "sig", "alg" other
/// than "ES256") or lack a kid are skipped; a document that is not a JWKS throws
/// std::invalid_argument, and so does a P-256 key whose point is invalid.
std::vector<std::pair<std::string, std::string>> publicPemsFromJwks(std::string_view jwks_json);

/// {"keys":[jwk, ...]} for the given (kid, public PEM) pairs, for /.well-known/jwks.json.
std::string jwksJson(const std::vector<std::pair<std::string, std::string>>& kid_public_pems);

/// What a verified access token says. Claim names: sub, roles, sid, iat, exp, iss, aud, jti.
struct AccessClaims {
    std::string subject;
    std::vector<std::string> roles;
    std::string session_id;
    std::int64_t issued_at = 0;   ///< unix seconds
    std::int64_t expires_at = 0;  ///< unix seconds
    std::string issuer;
    std::string audience;
    std::string token_id;  ///< random, unique per token (jti)
};

/// Signs access tokens with one key. Header: {"alg":"ES256","typ":"JWT","kid":...}.
/// @par Thread Safety
/// sign() is const and may be called from any number of threads.
class TokenSigner {
public:
    /// Throws std::invalid_argument if the key is not a P-256 private key or ttl is not positive.
    TokenSigner(SigningKey current, std::string issuer, std::string audience,
                std::chrono::seconds ttl);

    /// A token valid from now_unix for the ttl. Throws std::runtime_error if signing fails.
    std::string sign(const std::string& subject, const std::vector<std::string>& roles,
                     const std::string& session_id, std::int64_t now_unix) const;

    const std::string& kid() const { return key_.kid; }

private:
    SigningKey key_;
    std::string issuer_;
    std::string audience_;
    std::chrono::seconds ttl_;
};

/// Verifies access tokens against a set of public keys chosen by the header's kid. Only ES256 is
/// accepted, whatever the header says, so neither "none" nor an HS256 token made with a public
/// key as the HMAC secret gets through.
/// @par Thread Safety
/// verify() may run on any number of threads while another thread calls setKeys(); a verify()
/// sees either the old or the new key set.
class TokenVerifier {
public:
    /// `leeway` tolerates clock skew for exp, nbf and iat.
    TokenVerifier(std::string issuer, std::string audience, std::chrono::seconds leeway);

    /// Replaces the key set. During a rotation pass both the old and the new key; drop the old one
    /// once its tokens have expired. Throws std::invalid_argument (and keeps the old set) if a PEM
    /// is not a P-256 public key, a kid is empty, or a kid repeats.
    void setKeys(std::vector<std::pair<std::string /*kid*/, std::string /*public pem*/>> keys);

    /// The claims of a valid token, or nullopt with the reason in `*why` (for logs, not clients).
    std::optional<AccessClaims> verify(std::string_view token, std::int64_t now_unix,
                                       std::string* why = nullptr) const;

private:
    using KeyMap = std::map<std::string, std::string, std::less<>>;

    std::shared_ptr<const KeyMap> keys() const;

    std::string issuer_;
    std::string audience_;
    std::int64_t leeway_;
    mutable std::mutex keys_mutex_;
    std::shared_ptr<const KeyMap> keys_;
};

}  // namespace restinu::rt
