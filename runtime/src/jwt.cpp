#include "restinu/rt/jwt.hpp"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "restinu/rt/base64.hpp"

namespace restinu::rt {
namespace {

namespace json = boost::json;

/// Tokens longer than this are refused before any parsing; ours are a few hundred bytes.
constexpr std::size_t kMaxTokenBytes = 8192;
constexpr std::size_t kCoordinateBytes = 32;
constexpr std::string_view kAlg = "ES256";

struct JwtFree {
    void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;
struct CFree {
    void operator()(char* p) const { std::free(p); }  // libjwt 1.10 strings come from malloc
};
using CStringPtr = std::unique_ptr<char, CFree>;
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct BnFree {
    void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

/// Refuses to prompt for a passphrase (OpenSSL's default would read the terminal).
int noPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
    return -1;
}

BioPtr memBio(const std::string& pem) {
    if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        return nullptr;
    }
    return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

bool isP256(EVP_PKEY* key) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        return false;
    }
    std::array<char, 64> group{};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &len) != 1) {
        return false;
    }
    return std::string_view(group.data(), len) == "prime256v1";
}

PkeyPtr loadP256Public(const std::string& pem) {
    auto bio = memBio(pem);
    if (!bio) {
        return nullptr;
    }
    PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, noPassphrase, nullptr));
    if (!key || !isP256(key.get())) {
        return nullptr;
    }
    return key;
}

PkeyPtr loadP256Private(const std::string& pem) {
    auto bio = memBio(pem);
    if (!bio) {
        return nullptr;
    }
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
    if (!key || !isP256(key.get())) {
        return nullptr;
    }
    return key;
}

std::string bioContents(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string randomHex(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char b : buf) {
        out += kHex[b >> 4];
        out += kHex[b & 0x0f];
    }
    return out;
}

json::object jwkObject(const std::string& kid, const std::string& public_pem) {
    auto key = loadP256Public(public_pem);
    if (!key) {
        throw std::invalid_argument("jwk: not a P-256 public key PEM for kid " + kid);
    }
    auto coordinate = [&key](const char* name) {
        BIGNUM* raw = nullptr;
        if (EVP_PKEY_get_bn_param(key.get(), name, &raw) != 1) {
            throw std::runtime_error("jwk: cannot read EC public coordinate");
        }
        BnPtr bn(raw);
        std::array<unsigned char, kCoordinateBytes> buf{};
        if (BN_bn2binpad(bn.get(), buf.data(), static_cast<int>(buf.size())) !=
            static_cast<int>(buf.size())) {
            throw std::runtime_error("jwk: EC coordinate does not fit 32 bytes");
        }
        return base64UrlEncode(
            std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
    };
    json::object jwk;
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = coordinate(OSSL_PKEY_PARAM_EC_PUB_X);
    jwk["y"] = coordinate(OSSL_PKEY_PARAM_EC_PUB_Y);
    jwk["kid"] = kid;
    jwk["use"] = "sig";
    jwk["alg"] = kAlg;
    return jwk;
}

void check(int rc, const char* what) {
    if (rc != 0) {
        throw std::runtime_error(std::string("jwt sign: ") + what + " failed (" +
                                 std::to_string(rc) + ")");
    }
}

/// A claim that libjwt decoded, as JSON, read with Boost.JSON so that types are exact.
std::optional<json::value> claimJson(jwt_t* jwt, const char* name) {
    CStringPtr text(jwt_get_grants_json(jwt, name));
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    json::value v = json::parse(text.get(), ec);
    if (ec) {
        return std::nullopt;
    }
    return v;
}

std::optional<std::int64_t> intClaim(jwt_t* jwt, const char* name) {
    auto v = claimJson(jwt, name);
    if (!v) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    return std::nullopt;  // strings, reals and out-of-range numbers are not NumericDates here
}

std::optional<std::string> stringClaim(jwt_t* jwt, const char* name) {
    const char* s = jwt_get_grant(jwt, name);  // NULL unless the claim is a JSON string
    if (s == nullptr) {
        return std::nullopt;
    }
    return std::string(s);
}

std::optional<AccessClaims> refuse(std::string* why, std::string reason) {
    if (why != nullptr) {
        *why = std::move(reason);
    }
    return std::nullopt;
}

struct Header {
    std::string alg;
    std::string kid;
};

/// Reads (does not trust) the protected header, to pick the key. libjwt checks it again.
std::optional<Header> readHeader(std::string_view token, std::string& reason) {
    auto dot = token.find('.');
    if (dot == std::string_view::npos) {
        reason = "malformed token: no header segment";
        return std::nullopt;
    }
    auto bytes = base64UrlDecode(token.substr(0, dot));
    if (!bytes) {
        reason = "malformed token: header is not base64url";
        return std::nullopt;
    }
    boost::system::error_code ec;
    json::value v = json::parse(*bytes, ec);
    if (ec || !v.is_object()) {
        reason = "malformed token: header is not a JSON object";
        return std::nullopt;
    }
    const auto& obj = v.get_object();
    Header h;
    if (const auto* alg = obj.if_contains("alg"); alg != nullptr && alg->is_string()) {
        h.alg = alg->get_string();
    }
    if (const auto* kid = obj.if_contains("kid"); kid != nullptr && kid->is_string()) {
        h.kid = kid->get_string();
    }
    if (obj.contains("crit")) {
        reason = "unsupported critical header extension";  // RFC 7515 §4.1.11
        return std::nullopt;
    }
    return h;
}

}  // namespace

SigningKey generateSigningKey(std::string kid) {
    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) {
        throw std::runtime_error("generateSigningKey: EC key generation failed");
    }
    BioPtr priv(BIO_new(BIO_s_mem()));
    BioPtr pub(BIO_new(BIO_s_mem()));
    if (!priv || !pub ||
        PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1 ||
        PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
        throw std::runtime_error("generateSigningKey: PEM encoding failed");
    }
    return SigningKey{std::move(kid), bioContents(priv.get()), bioContents(pub.get())};
}

std::string jwkFromPublicPem(const std::string& kid, const std::string& public_pem) {
    return json::serialize(jwkObject(kid, public_pem));
}

namespace {

struct ParamBldFree {
    void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

std::string_view jwkString(const json::object& jwk, std::string_view name) {
    const auto* v = jwk.if_contains(name);
    if (v == nullptr || !v->is_string()) {
        return {};
    }
    return v->get_string();
}

std::string pemFromJwkObject(const json::object& jwk) {
    if (jwkString(jwk, "kty") != "EC" || jwkString(jwk, "crv") != "P-256") {
        throw std::invalid_argument("JWK: not an EC P-256 key");
    }
    auto x = base64UrlDecode(jwkString(jwk, "x"));
    auto y = base64UrlDecode(jwkString(jwk, "y"));
    if (!x || !y || x->size() != kCoordinateBytes || y->size() != kCoordinateBytes) {
        throw std::invalid_argument("JWK: x and y must be 32 bytes of base64url");
    }
    // The uncompressed point (SEC 1 §2.3.3): 0x04 || x || y.
    std::string point = "\x04" + *x + *y;
    std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        throw std::runtime_error("JWK: OpenSSL parameter building failed");
    }
    std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        throw std::invalid_argument("JWK: the point is not on P-256");
    }
    PkeyPtr key(raw);
    // fromdata does not always check the point; a public-key check does.
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check_ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check_ctx || EVP_PKEY_public_check(check_ctx.get()) != 1) {
        throw std::invalid_argument("JWK: the point is not on P-256");
    }
    BioPtr pub(BIO_new(BIO_s_mem()));
    if (!pub || PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
        throw std::runtime_error("JWK: PEM encoding failed");
    }
    return bioContents(pub.get());
}

json::value parseJsonOrThrow(std::string_view text, const char* what) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) {
        throw std::invalid_argument(std::string(what) + ": not JSON");
    }
    return v;
}

}  // namespace

std::string publicPemFromJwk(std::string_view jwk_json) {
    auto v = parseJsonOrThrow(jwk_json, "JWK");
    if (!v.is_object()) {
        throw std::invalid_argument("JWK: not an object");
    }
    return pemFromJwkObject(v.get_object());
}

std::vector<std::pair<std::string, std::string>> publicPemsFromJwks(std::string_view jwks_json) {
    auto v = parseJsonOrThrow(jwks_json, "JWKS");
    const auto* keys = v.is_object() ? v.get_object().if_contains("keys") : nullptr;
    if (keys == nullptr || !keys->is_array()) {
        throw std::invalid_argument("JWKS: no \"keys\" array");
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& k : keys->get_array()) {
        if (!k.is_object()) {
            continue;
        }
        const auto& jwk = k.get_object();
        auto kid = jwkString(jwk, "kid");
        auto use = jwkString(jwk, "use");
        auto alg = jwkString(jwk, "alg");
        if (kid.empty() || jwkString(jwk, "kty") != "EC" || jwkString(jwk, "crv") != "P-256" ||
            (!use.empty() && use != "sig") || (!alg.empty() && alg != kAlg)) {
            continue;
        }
        out.emplace_back(std::string(kid), pemFromJwkObject(jwk));
    }
    return out;
}

std::string jwksJson(const std::vector<std::pair<std::string, std::string>>& kid_public_pems) {
    json::array keys;
    for (const auto& [kid, pem] : kid_public_pems) {
        keys.emplace_back(jwkObject(kid, pem));
    }
    return json::serialize(json::object{{"keys", std::move(keys)}});
}

TokenSigner::TokenSigner(SigningKey current, std::string issuer, std::string audience,
                         std::chrono::seconds ttl)
    : key_(std::move(current)),
      issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      ttl_(ttl) {
    if (key_.kid.empty()) {
        throw std::invalid_argument("TokenSigner: the key needs a kid");
    }
    if (!loadP256Private(key_.private_pem)) {
        throw std::invalid_argument("TokenSigner: not an unencrypted P-256 private key PEM");
    }
    if (ttl_.count() <= 0) {
        throw std::invalid_argument("TokenSigner: ttl must be positive");
    }
}

std::string TokenSigner::sign(const std::string& subject, const std::vector<std::string>& roles,
                              const std::string& session_id, std::int64_t now_unix) const {
    if (subject.empty()) {
        throw std::invalid_argument("TokenSigner::sign: empty subject");
    }
    jwt_t* raw = nullptr;
    check(jwt_new(&raw), "jwt_new");
    JwtPtr jwt(raw);

    json::array role_array;
    for (const auto& r : roles) {
        role_array.emplace_back(r);
    }
    check(jwt_add_header(jwt.get(), "kid", key_.kid.c_str()), "kid header");
    check(jwt_add_header(jwt.get(), "typ", "JWT"), "typ header");
    check(jwt_add_grant(jwt.get(), "iss", issuer_.c_str()), "iss");
    check(jwt_add_grant(jwt.get(), "sub", subject.c_str()), "sub");
    check(jwt_add_grant(jwt.get(), "aud", audience_.c_str()), "aud");
    check(jwt_add_grant(jwt.get(), "sid", session_id.c_str()), "sid");
    check(jwt_add_grant(jwt.get(), "jti", randomHex(16).c_str()), "jti");
    check(jwt_add_grant_int(jwt.get(), "iat", now_unix), "iat");
    check(jwt_add_grant_int(jwt.get(), "exp", now_unix + ttl_.count()), "exp");
    std::string roles_json = json::serialize(json::object{{"roles", std::move(role_array)}});
    check(jwt_add_grants_json(jwt.get(), roles_json.c_str()), "roles");
    check(jwt_set_alg(jwt.get(), JWT_ALG_ES256,
                      reinterpret_cast<const unsigned char*>(key_.private_pem.data()),
                      static_cast<int>(key_.private_pem.size())),
          "set ES256 key");
    CStringPtr token(jwt_encode_str(jwt.get()));
    if (!token) {
        throw std::runtime_error("jwt sign: encoding failed");
    }
    return std::string(token.get());
}

TokenVerifier::TokenVerifier(std::string issuer, std::string audience, std::chrono::seconds leeway)
    : issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      leeway_(leeway.count()),
      keys_(std::make_shared<const KeyMap>()) {
    if (leeway_ < 0) {
        throw std::invalid_argument("TokenVerifier: leeway must not be negative");
    }
}

void TokenVerifier::setKeys(std::vector<std::pair<std::string, std::string>> keys) {
    KeyMap next;
    for (auto& [kid, pem] : keys) {
        if (kid.empty()) {
            throw std::invalid_argument("TokenVerifier::setKeys: empty kid");
        }
        if (!loadP256Public(pem)) {
            throw std::invalid_argument("TokenVerifier::setKeys: not a P-256 public key: " + kid);
        }
        if (!next.emplace(std::move(kid), std::move(pem)).second) {
            throw std::invalid_argument("TokenVerifier::setKeys: duplicate kid");
        }
    }
    auto shared = std::make_shared<const KeyMap>(std::move(next));
    std::lock_guard lock(keys_mutex_);
    keys_ = std::move(shared);
}

std::shared_ptr<const TokenVerifier::KeyMap> TokenVerifier::keys() const {
    std::lock_guard lock(keys_mutex_);
    return keys_;
}

std::optional<AccessClaims> TokenVerifier::verify(std::string_view token, std::int64_t now_unix,
                                                  std::string* why) const {
    if (token.empty() || token.size() > kMaxTokenBytes) {
        return refuse(why, "malformed token: empty or too long");
    }
    if (token.find('\0') != std::string_view::npos) {
        return refuse(why, "malformed token: NUL byte");
    }
    if (std::count(token.begin(), token.end(), '.') != 2) {
        return refuse(why, "malformed token: not three segments");
    }
    std::string reason;
    auto header = readHeader(token, reason);
    if (!header) {
        return refuse(why, reason);
    }
    // Checked before libjwt sees the token: libjwt would verify an HS256 token with whatever key
    // it is given as the HMAC secret, and accept "none" without a signature.
    if (header->alg != kAlg) {
        return refuse(why, "alg \"" + header->alg + "\" is not ES256");
    }
    if (header->kid.empty()) {
        return refuse(why, "missing kid");
    }
    auto key_set = keys();
    auto key = key_set->find(header->kid);
    if (key == key_set->end()) {
        return refuse(why, "unknown kid \"" + header->kid + "\"");
    }

    std::string token_str(token);
    jwt_t* raw = nullptr;
    int rc = jwt_decode(&raw, token_str.c_str(),
                        reinterpret_cast<const unsigned char*>(key->second.data()),
                        static_cast<int>(key->second.size()));
    JwtPtr jwt(raw);
    if (rc != 0 || !jwt) {
        return refuse(why, "bad signature or malformed token (libjwt: " + std::to_string(rc) + ")");
    }
    if (jwt_get_alg(jwt.get()) != JWT_ALG_ES256) {
        return refuse(why, "alg is not ES256");
    }

    AccessClaims c;
    auto iss = stringClaim(jwt.get(), "iss");
    if (!iss || *iss != issuer_) {
        return refuse(why, "wrong or missing iss");
    }
    c.issuer = *iss;

    if (auto aud = stringClaim(jwt.get(), "aud")) {
        c.audience = *aud;
    } else if (auto list = claimJson(jwt.get(), "aud"); list && list->is_array()) {
        for (const auto& a : list->get_array()) {  // RFC 7519 §4.1.3: aud may be a list
            if (a.is_string() && a.get_string() == audience_) {
                c.audience = audience_;
            }
        }
    }
    if (c.audience != audience_) {
        return refuse(why, "wrong or missing aud");
    }

    auto exp = intClaim(jwt.get(), "exp");
    auto iat = intClaim(jwt.get(), "iat");
    if (!exp || !iat) {
        return refuse(why, "missing or non-integer exp or iat");
    }
    // Written so that no claim value can overflow: only now_unix and leeway_ are added to.
    if (*exp < now_unix - leeway_) {
        return refuse(why, "expired");
    }
    if (*iat > now_unix + leeway_) {
        return refuse(why, "issued in the future (iat)");
    }
    if (auto nbf_json = claimJson(jwt.get(), "nbf")) {
        auto nbf = intClaim(jwt.get(), "nbf");
        if (!nbf) {
            return refuse(why, "non-integer nbf");
        }
        if (*nbf > now_unix + leeway_) {
            return refuse(why, "not yet valid (nbf)");
        }
    }
    c.expires_at = *exp;
    c.issued_at = *iat;

    auto sub = stringClaim(jwt.get(), "sub");
    auto sid = stringClaim(jwt.get(), "sid");
    auto jti = stringClaim(jwt.get(), "jti");
    if (!sub || sub->empty() || !sid || !jti) {
        return refuse(why, "missing sub, sid or jti");
    }
    c.subject = std::move(*sub);
    c.session_id = std::move(*sid);
    c.token_id = std::move(*jti);

    auto roles = claimJson(jwt.get(), "roles");
    if (!roles || !roles->is_array()) {
        return refuse(why, "missing roles");
    }
    for (const auto& r : roles->get_array()) {
        if (!r.is_string()) {
            return refuse(why, "roles must be strings");
        }
        c.roles.emplace_back(r.get_string());
    }
    return c;
}

}  // namespace restinu::rt
