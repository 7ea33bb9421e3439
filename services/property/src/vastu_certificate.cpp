#include "vastu_certificate.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace restinu::property::vastu {
namespace {

static_assert(crypto_sign_SEEDBYTES == CertificateSigner::kSeedBytes &&
              crypto_sign_PUBLICKEYBYTES == CertificateSigner::kPublicKeyBytes &&
              crypto_sign_SECRETKEYBYTES == 64 &&
              crypto_sign_BYTES == CertificateSigner::kSignatureBytes);

// The DER of an Ed25519 SubjectPublicKeyInfo before the 32 key bytes (RFC 8410 §4):
// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) }.
constexpr unsigned char kSpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                         0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

void ensureSodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

const unsigned char* bytesOf(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::string base64(const unsigned char* data, std::size_t size, int variant) {
    std::string out(sodium_base64_ENCODED_LEN(size, variant), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, variant);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string base64Url(std::string_view bytes) {
    return base64(bytesOf(bytes), bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

// True iff `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool isUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t extra = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (s.size() - i <= extra) {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

// A JSON string as RFC 8785 (and Python's json with ensure_ascii=False) writes it: only '"',
// '\\' and the controls below 0x20 are escaped, five of them in their short form.
void appendString(std::string& out, std::string_view text, std::string_view field) {
    if (!isUtf8(text)) {
        throw std::invalid_argument("vastu certificate: " + std::string(field) +
                                    " is not valid UTF-8");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (char ch : text) {
        auto u = static_cast<unsigned char>(ch);
        switch (u) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out += kHex[u >> 4];
                    out += kHex[u & 0x0f];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

void appendField(std::string& out, std::string_view name) {
    if (out.back() != '{') {
        out += ',';
    }
    out += '"';
    out += name;
    out += "\":";
}

std::string utcText(std::chrono::sys_seconds t) {
    auto day = std::chrono::floor<std::chrono::days>(t);
    std::chrono::year_month_day ymd{day};
    std::chrono::hh_mm_ss hms{t - day};
    int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        throw std::invalid_argument("vastu certificate: issued_at is outside the years 0000-9999");
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

// 64 hex characters, or base64 (either alphabet, padded or not) of exactly 32 bytes.
bool decodeSeed(std::string_view text,
                std::array<unsigned char, CertificateSigner::kSeedBytes>& seed) {
    constexpr std::string_view kSpace = " \t\r\n";
    text.remove_prefix(std::min(text.find_first_not_of(kSpace), text.size()));
    text.remove_suffix(text.size() - (text.find_last_not_of(kSpace) + 1));
    std::size_t len = 0;
    const char* end = nullptr;
    if (text.size() == 2 * seed.size() &&
        sodium_hex2bin(seed.data(), seed.size(), text.data(), text.size(), nullptr, &len, &end) ==
            0 &&
        len == seed.size() && end == text.data() + text.size()) {
        return true;
    }
    for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
        if (sodium_base642bin(seed.data(), seed.size(), text.data(), text.size(), nullptr, &len,
                              &end, variant) == 0 &&
            len == seed.size() && end == text.data() + text.size()) {
            return true;
        }
    }
    sodium_memzero(seed.data(), seed.size());
    return false;
}

constexpr std::string_view kSeedRule =
    "must be a 32-byte Ed25519 seed, as 64 hex characters or base64 (openssl rand -base64 32)";

}  // namespace

std::string canonicalPayload(const CertificateBody& body, std::string_view key_id) {
    // Keys in byte order, written by hand: certificate_id < format < grade < issued_at < key_id
    // < layout < property_id < rules_version < score; elements < facing.
    std::string out = "{";
    appendField(out, "certificate_id");
    appendString(out, body.certificate_id, "certificate_id");
    appendField(out, "format");
    appendString(out, kPayloadFormat, "format");
    appendField(out, "grade");
    appendString(out, body.grade, "grade");
    appendField(out, "issued_at");
    appendString(out, utcText(body.issued_at), "issued_at");
    appendField(out, "key_id");
    appendString(out, key_id, "key_id");
    appendField(out, "layout");
    out += '{';
    appendField(out, "elements");
    out += '{';
    for (const auto& [element, zone] : body.elements) {  // std::map: already in byte order
        out += out.back() == '{' ? "" : ",";
        appendString(out, element, "layout element");
        out += ':';
        appendString(out, zone, "layout zone");
    }
    out += '}';
    appendField(out, "facing");
    appendString(out, body.facing, "facing");
    out += '}';
    appendField(out, "property_id");
    appendString(out, body.property_id, "property_id");
    appendField(out, "rules_version");
    appendString(out, body.rules_version, "rules_version");
    appendField(out, "score");
    out += std::to_string(body.score);
    out += '}';
    return out;
}

std::string responseJson(const SignedCertificate& cert, std::string_view superseded_by) {
    std::string out = "{";
    appendField(out, "certificate");
    out += cert.payload;  // the signed JSON itself, so it cannot differ from "payload"
    appendField(out, "payload");
    appendString(out, base64Url(cert.payload), "payload");
    appendField(out, "signature");
    appendString(out, base64Url(cert.signature), "signature");
    appendField(out, "key_id");
    appendString(out, cert.key_id, "key_id");
    appendField(out, "algorithm");
    out += "\"Ed25519\"";
    appendField(out, "status");
    out += superseded_by.empty() ? "\"current\"" : "\"superseded\"";
    appendField(out, "superseded_by");
    if (superseded_by.empty()) {
        out += "null";
    } else {
        appendString(out, superseded_by, "superseded_by");
    }
    out += '}';
    return out;
}

CertificateSigner::CertificateSigner(const std::array<unsigned char, kSeedBytes>& seed) {
    init(seed);
}

CertificateSigner::CertificateSigner(std::string_view key_text) {
    ensureSodium();
    std::array<unsigned char, kSeedBytes> seed{};
    if (!decodeSeed(key_text, seed)) {
        throw std::invalid_argument(std::string(kConfigKey) + ": " + std::string(kSeedRule) +
                                    " (got " + std::to_string(key_text.size()) + " characters)");
    }
    init(seed);
    sodium_memzero(seed.data(), seed.size());
}

void CertificateSigner::init(const std::array<unsigned char, kSeedBytes>& seed) {
    ensureSodium();
    crypto_sign_seed_keypair(public_key_.data(), secret_key_.data(), seed.data());
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), public_key_.data(), public_key_.size());
    char hex[2 * 8 + 1];
    sodium_bin2hex(hex, sizeof hex, digest.data(), 8);
    key_id_ = hex;
}

std::optional<CertificateSigner> CertificateSigner::fromText(std::string_view key_text,
                                                             std::string* why) {
    ensureSodium();
    std::array<unsigned char, kSeedBytes> seed{};
    if (!decodeSeed(key_text, seed)) {
        if (why != nullptr) {
            *why = kSeedRule;
        }
        return std::nullopt;
    }
    CertificateSigner signer(seed);
    sodium_memzero(seed.data(), seed.size());
    return signer;
}

std::string CertificateSigner::generateSeedBase64() {
    ensureSodium();
    std::array<unsigned char, kSeedBytes> seed{};
    randombytes_buf(seed.data(), seed.size());
    auto out = base64(seed.data(), seed.size(), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(seed.data(), seed.size());
    return out;
}

CertificateSigner::~CertificateSigner() {
    sodium_memzero(secret_key_.data(), secret_key_.size());
}

std::string CertificateSigner::publicKey() const {
    return {reinterpret_cast<const char*>(public_key_.data()), public_key_.size()};
}

std::string CertificateSigner::publicKeyBase64Url() const {
    return base64Url(publicKey());
}

std::string CertificateSigner::publicKeyPem() const {
    std::array<unsigned char, sizeof kSpkiPrefix + kPublicKeyBytes> der{};
    std::memcpy(der.data(), kSpkiPrefix, sizeof kSpkiPrefix);
    std::memcpy(der.data() + sizeof kSpkiPrefix, public_key_.data(), public_key_.size());
    // 44 bytes make 60 base64 characters: one line, under PEM's 64.
    return "-----BEGIN PUBLIC KEY-----\n" +
           base64(der.data(), der.size(), sodium_base64_VARIANT_ORIGINAL) +
           "\n-----END PUBLIC KEY-----\n";
}

std::string CertificateSigner::publicKeyJson() const {
    std::string out = "{";
    appendField(out, "key_id");
    appendString(out, key_id_, "key_id");
    appendField(out, "algorithm");
    out += "\"Ed25519\"";
    appendField(out, "public_key");
    appendString(out, publicKeyBase64Url(), "public_key");
    appendField(out, "pem");
    appendString(out, publicKeyPem(), "pem");
    out += '}';
    return out;
}

SignedCertificate CertificateSigner::sign(const CertificateBody& body) const {
    SignedCertificate cert;
    cert.payload = canonicalPayload(body, key_id_);
    cert.signature = signBytes(cert.payload);
    cert.key_id = key_id_;
    return cert;
}

std::string CertificateSigner::signBytes(std::string_view message) const {
    std::string sig(kSignatureBytes, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, bytesOf(message),
                         message.size(), secret_key_.data());
    return sig;
}

bool CertificateSigner::verify(std::string_view payload, std::string_view signature,
                               std::string_view public_key) {
    ensureSodium();
    if (signature.size() != kSignatureBytes || public_key.size() != kPublicKeyBytes) {
        return false;
    }
    return crypto_sign_verify_detached(bytesOf(signature), bytesOf(payload), payload.size(),
                                       bytesOf(public_key)) == 0;
}

}  // namespace restinu::property::vastu
