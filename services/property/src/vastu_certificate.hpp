#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

/// Vastu certificates: a score for one layout of one property, signed with Ed25519 so that
/// anyone holding the published public key can check it offline with a tool that is not ours
/// (`openssl pkeyutl -verify`, PyNaCl, tools/vastu-verify/verify.py). docs/vastu-certificates.md
/// gives the format and the commands.
///
/// What is signed is the payload: the body as canonical JSON (keys sorted by their UTF-8
/// bytes, no whitespace, integers and strings only, RFC 8785 escaping), so equal bodies give
/// equal bytes and Python's `json.dumps(c, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)` rebuilds it. The API hands out those exact bytes with the signature;
/// nobody has to re-serialise anything to verify.
namespace restinu::property::vastu {

/// What a certificate states. Plain std types only, so the rule engine, the store and the tests
/// can fill it without this file knowing them.
struct CertificateBody {
    std::string certificate_id;
    std::string property_id;
    /// The layout scored: the plot's facing, and each element's zone
    /// ("kitchen" → "SE"). A map, so the order the elements came in does not matter.
    std::string facing;
    std::map<std::string, std::string> elements;
    int score = 0;
    std::string grade;
    /// The version of the rule table that produced the score.
    std::string rules_version;
    /// Written as "2026-12-06T15:04:05Z" (UTC, whole seconds).
    std::chrono::sys_seconds issued_at{};
};

/// The value of the payload's "format" field: a signature over these bytes cannot be taken for
/// a signature over anything else the same key might ever sign.
inline constexpr std::string_view kPayloadFormat = "restinu.vastu.certificate.v1";

/// The signed bytes for `body`, naming the key that signs them. Throws std::invalid_argument
/// if a string is not valid UTF-8 or the year is outside 0000–9999.
std::string canonicalPayload(const CertificateBody& body, std::string_view key_id);

/// A certificate as stored and served: keep these bytes; never rebuild them from the body.
struct SignedCertificate {
    std::string payload;    ///< canonical JSON, the exact bytes signed
    std::string signature;  ///< 64 raw bytes, Ed25519 over `payload`
    std::string key_id;
};

/// The body of `GET /api/v1/vastu/certificates/{id}`: {"certificate": <payload, verbatim>,
/// "payload": base64url, "signature": base64url, "key_id", "algorithm": "Ed25519", "status":
/// "current" | "superseded", "superseded_by": id | null}. The status is the service's current
/// view and is not signed (the signed bytes never change once issued).
std::string responseJson(const SignedCertificate& cert, std::string_view superseded_by = {});

/// Holds the Ed25519 key (libsodium) that signs certificates, from config `vastu.signing_key`.
/// Immutable after construction, so one signer may be shared by threads.
class CertificateSigner {
public:
    static constexpr std::string_view kConfigKey = "vastu.signing_key";
    static constexpr std::size_t kSeedBytes = 32;
    static constexpr std::size_t kPublicKeyBytes = 32;
    static constexpr std::size_t kSignatureBytes = 64;

    /// From the 32-byte seed (RFC 8032's "private key"); the keypair is derived from it.
    explicit CertificateSigner(const std::array<unsigned char, kSeedBytes>& seed);
    /// From the config text: 64 hex characters or base64 of 32 bytes. Throws
    /// std::invalid_argument naming `vastu.signing_key` for anything else.
    explicit CertificateSigner(std::string_view key_text);

    /// The same without throwing: nullopt and `*why` (without the key's name, for
    /// rt::Config::reject(kConfigKey, why)).
    static std::optional<CertificateSigner> fromText(std::string_view key_text, std::string* why);

    /// A fresh random seed, base64, for `make run` and tests.
    static std::string generateSeedBase64();

    CertificateSigner(const CertificateSigner&) = default;
    CertificateSigner& operator=(const CertificateSigner&) = default;
    CertificateSigner(CertificateSigner&&) = default;
    CertificateSigner& operator=(CertificateSigner&&) = default;
    /// Wipes the secret key.
    ~CertificateSigner();

    /// 32 raw bytes.
    std::string publicKey() const;
    /// The 32 bytes as unpadded base64url.
    std::string publicKeyBase64Url() const;
    /// SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"), as openssl reads it.
    std::string publicKeyPem() const;
    /// First 16 hex characters of SHA-256 of the raw public key.
    const std::string& keyId() const { return key_id_; }
    /// The body of `GET /api/v1/vastu/public-key`:
    /// {"key_id", "algorithm": "Ed25519", "public_key": base64url, "pem"}.
    std::string publicKeyJson() const;

    /// Canonical payload (with this key's id) and its signature.
    SignedCertificate sign(const CertificateBody& body) const;
    /// Ed25519 over any bytes: 64 raw bytes (exposed for the RFC 8032 known-answer test).
    std::string signBytes(std::string_view message) const;

    /// True iff `signature` (64 raw bytes) is `public_key`'s (32 raw bytes) over `payload`.
    static bool verify(std::string_view payload, std::string_view signature,
                       std::string_view public_key);

private:
    void init(const std::array<unsigned char, kSeedBytes>& seed);

    std::array<unsigned char, 64> secret_key_{};  // libsodium's seed || public key
    std::array<unsigned char, kPublicKeyBytes> public_key_{};
    std::string key_id_;
};

}  // namespace restinu::property::vastu
