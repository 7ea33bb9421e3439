#include "restinu/rt/jwt.hpp"

#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <memory>

#include "restinu/rt/base64.hpp"

namespace restinu::rt {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr auto kTtl = 900s;
constexpr auto kLeeway = 30s;
constexpr const char* kIssuer = "https://restinu.dev/user";
constexpr const char* kAudience = "restinu-api";

struct Fixture {
    SigningKey key = generateSigningKey("k1");
    TokenSigner signer{key, kIssuer, kAudience, kTtl};
    TokenVerifier verifier{kIssuer, kAudience, kLeeway};
    Fixture() { verifier.setKeys({{key.kid, key.public_pem}}); }
};

std::vector<std::string> split(const std::string& token) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        auto dot = token.find('.', start);
        parts.push_back(token.substr(start, dot - start));
        if (dot == std::string::npos) {
            return parts;
        }
        start = dot + 1;
    }
}

json::object validClaims() {
    return json::object{
        {"iss", kIssuer}, {"aud", kAudience}, {"sub", "user-1"},  {"sid", "s-1"},
        {"jti", "j-1"},   {"iat", kNow},      {"exp", kNow + 60}, {"roles", json::array{"buyer"}}};
}

/// An ES256 token with exactly these claims and header extras, signed by libjwt with `key`.
std::string signRaw(const SigningKey& key, const json::object& claims, bool with_kid = true) {
    jwt_t* raw = nullptr;
    EXPECT_EQ(jwt_new(&raw), 0);
    std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, jwt_free);
    if (with_kid) {
        EXPECT_EQ(jwt_add_header(jwt.get(), "kid", key.kid.c_str()), 0);
    }
    EXPECT_EQ(jwt_add_grants_json(jwt.get(), json::serialize(claims).c_str()), 0);
    EXPECT_EQ(jwt_set_alg(jwt.get(), JWT_ALG_ES256,
                          reinterpret_cast<const unsigned char*>(key.private_pem.data()),
                          static_cast<int>(key.private_pem.size())),
              0);
    char* out = jwt_encode_str(jwt.get());
    std::string token = out != nullptr ? out : "";
    std::free(out);
    return token;
}

std::string hs256(const std::string& secret, const std::string& input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return std::string(reinterpret_cast<const char*>(mac), len);
}

void expectRefused(const Fixture& f, const std::string& token, std::int64_t now,
                   std::string_view reason_part) {
    std::string why;
    EXPECT_FALSE(f.verifier.verify(token, now, &why).has_value()) << token;
    EXPECT_NE(why.find(reason_part), std::string::npos) << "reason: " << why;
}

TEST(JwtCodec, Base64UrlRoundTripsWithoutPadding) {
    std::vector<std::string> samples = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    samples.emplace_back("\xff\xfe\x00\x01", 4);
    for (const auto& s : samples) {
        auto enc = base64UrlEncode(s);
        EXPECT_EQ(enc.find('='), std::string::npos);
        EXPECT_EQ(base64UrlDecode(enc), s);
    }
    EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
    EXPECT_FALSE(base64UrlDecode("Zg==").has_value());  // padding is not base64url for JWS
    EXPECT_FALSE(base64UrlDecode("a+b/").has_value());
    EXPECT_FALSE(base64UrlDecode("Zh").has_value());  // non-zero leftover bits
    EXPECT_FALSE(base64UrlDecode("abcde").has_value());
}

TEST(JwtSigner, RoundTripKeepsEveryClaim) {
    Fixture f;
    auto token = f.signer.sign("user-42", {"buyer", "agent"}, "sess-7", kNow);
    std::string why;
    auto c = f.verifier.verify(token, kNow + 10, &why);
    ASSERT_TRUE(c.has_value()) << why;
    EXPECT_EQ(c->subject, "user-42");
    EXPECT_EQ(c->roles, (std::vector<std::string>{"buyer", "agent"}));
    EXPECT_EQ(c->session_id, "sess-7");
    EXPECT_EQ(c->issued_at, kNow);
    EXPECT_EQ(c->expires_at, kNow + 900);
    EXPECT_EQ(c->issuer, kIssuer);
    EXPECT_EQ(c->audience, kAudience);
    EXPECT_EQ(c->token_id.size(), 32u);

    auto header = json::parse(*base64UrlDecode(split(token).at(0))).as_object();
    EXPECT_EQ(header.at("alg").as_string(), "ES256");
    EXPECT_EQ(header.at("typ").as_string(), "JWT");
    EXPECT_EQ(header.at("kid").as_string(), "k1");
    EXPECT_EQ(split(token).size(), 3u);
    EXPECT_EQ(base64UrlDecode(split(token).at(2))->size(), 64u);  // JWS R||S, not DER
}

TEST(JwtSigner, EveryTokenHasItsOwnId) {
    Fixture f;
    auto a = f.verifier.verify(f.signer.sign("u", {}, "s", kNow), kNow);
    auto b = f.verifier.verify(f.signer.sign("u", {}, "s", kNow), kNow);
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->token_id, b->token_id);
    EXPECT_TRUE(a->roles.empty());
}

TEST(JwtSigner, RejectsBadConstruction) {
    auto key = generateSigningKey("k1");
    EXPECT_THROW(TokenSigner(SigningKey{"k1", key.public_pem, key.public_pem}, "i", "a", kTtl),
                 std::invalid_argument);
    EXPECT_THROW(TokenSigner(SigningKey{"", key.private_pem, key.public_pem}, "i", "a", kTtl),
                 std::invalid_argument);
    EXPECT_THROW(TokenSigner(key, "i", "a", 0s), std::invalid_argument);
    TokenSigner ok(key, "i", "a", kTtl);
    EXPECT_THROW((void)ok.sign("", {}, "s", kNow), std::invalid_argument);
}

TEST(JwtVerifier, RefusesAlgNone) {
    Fixture f;
    auto header = base64UrlEncode(R"({"alg":"none","typ":"JWT","kid":"k1"})");
    auto payload = base64UrlEncode(json::serialize(validClaims()));
    expectRefused(f, header + "." + payload + ".", kNow, "not ES256");
    expectRefused(f, header + "." + payload, kNow, "malformed");
    auto lower = base64UrlEncode(R"({"alg":"NONE","kid":"k1"})");
    expectRefused(f, lower + "." + payload + ".", kNow, "not ES256");
}

TEST(JwtVerifier, RefusesHs256SignedWithThePublicKeyAsSecret) {
    Fixture f;
    auto header = base64UrlEncode(R"({"alg":"HS256","typ":"JWT","kid":"k1"})");
    auto payload = base64UrlEncode(json::serialize(validClaims()));
    auto input = header + "." + payload;
    auto token = input + "." + base64UrlEncode(hs256(f.key.public_pem, input));

    // The forgery is genuine: libjwt alone, handed the PEM as "the key", accepts it. That is why
    // the verifier pins ES256 before libjwt ever sees the token.
    jwt_t* raw = nullptr;
    int rc = jwt_decode(&raw, token.c_str(),
                        reinterpret_cast<const unsigned char*>(f.key.public_pem.data()),
                        static_cast<int>(f.key.public_pem.size()));
    jwt_free(raw);
    EXPECT_EQ(rc, 0);

    expectRefused(f, token, kNow, "not ES256");
}

TEST(JwtVerifier, RefusesOtherAlgorithmsAndMissingAlg) {
    Fixture f;
    auto payload = base64UrlEncode(json::serialize(validClaims()));
    auto token = split(f.signer.sign("u", {}, "s", kNow));
    for (const char* h : {R"({"alg":"ES384","kid":"k1"})", R"({"alg":"RS256","kid":"k1"})",
                          R"({"kid":"k1"})", R"({"alg":["ES256"],"kid":"k1"})"}) {
        expectRefused(f, base64UrlEncode(h) + "." + payload + "." + token[2], kNow, "not ES256");
    }
}

TEST(JwtVerifier, RefusesMissingOrUnknownKid) {
    Fixture f;
    expectRefused(f, signRaw(f.key, validClaims(), /*with_kid=*/false), kNow, "missing kid");
    auto other = generateSigningKey("k2");
    expectRefused(f, signRaw(other, validClaims()), kNow, "unknown kid");
    TokenVerifier empty(kIssuer, kAudience, kLeeway);
    EXPECT_FALSE(empty.verify(f.signer.sign("u", {}, "s", kNow), kNow).has_value());
}

TEST(JwtVerifier, RefusesBadSignature) {
    Fixture f;
    auto parts = split(f.signer.sign("u", {"buyer"}, "s", kNow));
    auto sig = *base64UrlDecode(parts[2]);
    sig[10] = static_cast<char>(sig[10] ^ 0x01);
    expectRefused(f, parts[0] + "." + parts[1] + "." + base64UrlEncode(sig), kNow, "signature");
    expectRefused(f, parts[0] + "." + parts[1] + ".", kNow, "signature");

    // Signed by another key that claims the registered kid.
    auto impostor = generateSigningKey("k1");
    TokenSigner forger(impostor, kIssuer, kAudience, kTtl);
    expectRefused(f, forger.sign("u", {"admin"}, "s", kNow), kNow, "signature");
}

TEST(JwtVerifier, RefusesTamperedPayload) {
    Fixture f;
    auto parts = split(f.signer.sign("user-1", {"buyer"}, "s", kNow));
    auto claims = json::parse(*base64UrlDecode(parts[1])).as_object();
    claims["roles"] = json::array{"buyer", "admin"};
    auto tampered = parts[0] + "." + base64UrlEncode(json::serialize(claims)) + "." + parts[2];
    expectRefused(f, tampered, kNow, "signature");
}

TEST(JwtVerifier, RefusesExpiredBeyondLeeway) {
    Fixture f;
    auto token = f.signer.sign("u", {}, "s", kNow);
    auto exp = kNow + kTtl.count();
    EXPECT_TRUE(f.verifier.verify(token, exp + kLeeway.count()).has_value());
    expectRefused(f, token, exp + kLeeway.count() + 1, "expired");
}

TEST(JwtVerifier, RefusesNotYetValid) {
    Fixture f;
    auto future = f.signer.sign("u", {}, "s", kNow + 3600);
    expectRefused(f, future, kNow, "iat");
    EXPECT_TRUE(f.verifier.verify(f.signer.sign("u", {}, "s", kNow + 30), kNow).has_value());

    auto claims = validClaims();
    claims["exp"] = kNow + 600;
    claims["nbf"] = kNow + 120;
    expectRefused(f, signRaw(f.key, claims), kNow, "nbf");
    EXPECT_TRUE(f.verifier.verify(signRaw(f.key, claims), kNow + 100).has_value());
    claims["nbf"] = "0";
    expectRefused(f, signRaw(f.key, claims), kNow, "nbf");
}

TEST(JwtVerifier, RefusesWrongIssuerOrAudience) {
    Fixture f;
    TokenSigner other_iss(f.key, "https://evil.example", kAudience, kTtl);
    expectRefused(f, other_iss.sign("u", {}, "s", kNow), kNow, "iss");
    TokenSigner other_aud(f.key, kIssuer, "another-api", kTtl);
    expectRefused(f, other_aud.sign("u", {}, "s", kNow), kNow, "aud");

    auto claims = validClaims();
    claims["aud"] = json::array{"x", kAudience};
    EXPECT_TRUE(f.verifier.verify(signRaw(f.key, claims), kNow).has_value());
    claims["aud"] = json::array{"x"};
    expectRefused(f, signRaw(f.key, claims), kNow, "aud");
    claims.erase("aud");
    expectRefused(f, signRaw(f.key, claims), kNow, "aud");
}

TEST(JwtVerifier, RefusesMissingOrMistypedClaims) {
    Fixture f;
    for (const char* name : {"sub", "sid", "jti", "roles", "exp", "iat"}) {
        auto claims = validClaims();
        claims.erase(name);
        EXPECT_FALSE(f.verifier.verify(signRaw(f.key, claims), kNow).has_value()) << name;
    }
    auto claims = validClaims();
    claims["exp"] = "9999999999";
    EXPECT_FALSE(f.verifier.verify(signRaw(f.key, claims), kNow).has_value());
    claims = validClaims();
    claims["exp"] = 1.7e9;
    EXPECT_FALSE(f.verifier.verify(signRaw(f.key, claims), kNow).has_value());
    claims = validClaims();
    claims["roles"] = json::array{"buyer", 7};
    EXPECT_FALSE(f.verifier.verify(signRaw(f.key, claims), kNow).has_value());
    claims = validClaims();
    claims["sub"] = 42;
    EXPECT_FALSE(f.verifier.verify(signRaw(f.key, claims), kNow).has_value());
}

TEST(JwtVerifier, RefusesMalformedTokens) {
    Fixture f;
    auto good = f.signer.sign("u", {}, "s", kNow);
    std::vector<std::string> bad = {
        "",
        "abc",
        "a.b",
        "a.b.c",
        good + ".extra",
        "!!!." + split(good)[1] + "." + split(good)[2],
        base64UrlEncode("not json") + "." + split(good)[1] + "." + split(good)[2],
        base64UrlEncode("[1,2]") + "." + split(good)[1] + "." + split(good)[2],
        split(good)[0] + ".%%%." + split(good)[2],
        split(good)[0] + "." + base64UrlEncode("{nope") + "." + split(good)[2],
        std::string(9000, 'a'),
        good.substr(0, 20) + std::string(1, '\0') + good.substr(20),
    };
    for (const auto& t : bad) {
        std::string why;
        EXPECT_FALSE(f.verifier.verify(t, kNow, &why).has_value()) << t;
        EXPECT_FALSE(why.empty());
    }
    auto crit = base64UrlEncode(R"({"alg":"ES256","kid":"k1","crit":["exp"]})");
    expectRefused(f, crit + "." + split(good)[1] + "." + split(good)[2], kNow, "critical");
}

TEST(JwtVerifier, RotationKeepsOldTokensUntilTheOldKeyIsRemoved) {
    Fixture f;
    auto old_token = f.signer.sign("u", {}, "s", kNow);
    auto next = generateSigningKey("k2");
    TokenSigner next_signer(next, kIssuer, kAudience, kTtl);
    auto new_token = next_signer.sign("u", {}, "s", kNow);

    EXPECT_FALSE(f.verifier.verify(new_token, kNow).has_value());
    f.verifier.setKeys({{f.key.kid, f.key.public_pem}, {next.kid, next.public_pem}});
    EXPECT_TRUE(f.verifier.verify(old_token, kNow).has_value());
    EXPECT_TRUE(f.verifier.verify(new_token, kNow).has_value());

    f.verifier.setKeys({{next.kid, next.public_pem}});
    expectRefused(f, old_token, kNow, "unknown kid");
    EXPECT_TRUE(f.verifier.verify(new_token, kNow).has_value());
}

TEST(JwtVerifier, SetKeysRejectsBadInputAndKeepsTheOldSet) {
    Fixture f;
    auto token = f.signer.sign("u", {}, "s", kNow);
    EXPECT_THROW(f.verifier.setKeys({{"k9", "not a pem"}}), std::invalid_argument);
    EXPECT_THROW(f.verifier.setKeys({{"k1", f.key.private_pem}}), std::invalid_argument);
    EXPECT_THROW(f.verifier.setKeys({{"", f.key.public_pem}}), std::invalid_argument);
    EXPECT_THROW(f.verifier.setKeys({{"k1", f.key.public_pem}, {"k1", f.key.public_pem}}),
                 std::invalid_argument);
    EXPECT_TRUE(f.verifier.verify(token, kNow).has_value());
}

TEST(JwtKeys, JwkCoordinatesDecodeBackToTheSamePublicKey) {
    auto key = generateSigningKey("k1");
    auto jwk = json::parse(jwkFromPublicPem("k1", key.public_pem)).as_object();
    EXPECT_EQ(jwk.at("kty").as_string(), "EC");
    EXPECT_EQ(jwk.at("crv").as_string(), "P-256");
    EXPECT_EQ(jwk.at("kid").as_string(), "k1");
    EXPECT_EQ(jwk.at("use").as_string(), "sig");
    EXPECT_EQ(jwk.at("alg").as_string(), "ES256");
    auto x = base64UrlDecode(jwk.at("x").as_string());
    auto y = base64UrlDecode(jwk.at("y").as_string());
    ASSERT_TRUE(x && y);
    ASSERT_EQ(x->size(), 32u);
    ASSERT_EQ(y->size(), 32u);

    // Rebuild the key from the uncompressed point 04||x||y and compare with the PEM's key.
    std::string point = "\x04" + *x + *y;
    std::unique_ptr<OSSL_PARAM_BLD, void (*)(OSSL_PARAM_BLD*)> bld(OSSL_PARAM_BLD_new(),
                                                                   OSSL_PARAM_BLD_free);
    ASSERT_EQ(
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0), 1);
    ASSERT_EQ(OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                               point.size()),
              1);
    std::unique_ptr<OSSL_PARAM, void (*)(OSSL_PARAM*)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                              OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), EVP_PKEY_CTX_free);
    ASSERT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
    EVP_PKEY* rebuilt_raw = nullptr;
    ASSERT_EQ(EVP_PKEY_fromdata(ctx.get(), &rebuilt_raw, EVP_PKEY_PUBLIC_KEY, params.get()), 1);
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> rebuilt(rebuilt_raw, EVP_PKEY_free);

    std::unique_ptr<BIO, void (*)(BIO*)> bio(
        BIO_new_mem_buf(key.public_pem.data(), static_cast<int>(key.public_pem.size())),
        [](BIO* b) { BIO_free(b); });
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> original(
        PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    ASSERT_TRUE(original);
    EXPECT_EQ(EVP_PKEY_eq(original.get(), rebuilt.get()), 1);

    std::unique_ptr<BIO, void (*)(BIO*)> out(BIO_new(BIO_s_mem()), [](BIO* b) { BIO_free(b); });
    ASSERT_EQ(PEM_write_bio_PUBKEY(out.get(), rebuilt.get()), 1);
    char* data = nullptr;
    long len = BIO_get_mem_data(out.get(), &data);
    EXPECT_EQ(std::string(data, static_cast<std::size_t>(len)), key.public_pem);
}

TEST(JwtKeys, JwksListsEveryKeyAndRefusesNonP256) {
    auto a = generateSigningKey("a");
    auto b = generateSigningKey("b");
    auto jwks = json::parse(jwksJson({{"a", a.public_pem}, {"b", b.public_pem}})).as_object();
    const auto& keys = jwks.at("keys").as_array();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].at("kid").as_string(), "a");
    EXPECT_EQ(keys[1].at("kid").as_string(), "b");
    EXPECT_NE(keys[0].at("x"), keys[1].at("x"));
    EXPECT_THROW((void)jwkFromPublicPem("a", "junk"), std::invalid_argument);
    EXPECT_THROW((void)jwkFromPublicPem("a", a.private_pem), std::invalid_argument);
}

TEST(JwtKeys, PemFromJwkIsTheInverseOfJwkFromPem) {
    auto key = generateSigningKey("k1");
    EXPECT_EQ(publicPemFromJwk(jwkFromPublicPem("k1", key.public_pem)), key.public_pem);
}

TEST(JwtKeys, TokensVerifyWithKeysReadFromTheJwks) {
    Fixture f;
    auto other = generateSigningKey("k2");
    auto pems = publicPemsFromJwks(jwksJson({{"k1", f.key.public_pem}, {"k2", other.public_pem}}));
    ASSERT_EQ(pems.size(), 2u);
    TokenVerifier v{kIssuer, kAudience, kLeeway};
    v.setKeys(pems);
    EXPECT_TRUE(v.verify(f.signer.sign("u1", {"investor"}, "s1", kNow), kNow).has_value());
}

TEST(JwtKeys, PemFromJwkRefusesWhatIsNotAP256PublicKey) {
    auto key = generateSigningKey("k1");
    auto jwk = json::parse(jwkFromPublicPem("k1", key.public_pem)).as_object();
    auto with = [&](std::string_view field, json::value v) {
        auto copy = jwk;
        copy[field] = std::move(v);
        return json::serialize(copy);
    };
    EXPECT_THROW((void)publicPemFromJwk("junk"), std::invalid_argument);
    EXPECT_THROW((void)publicPemFromJwk("[]"), std::invalid_argument);
    EXPECT_THROW((void)publicPemFromJwk(with("kty", "RSA")), std::invalid_argument);
    EXPECT_THROW((void)publicPemFromJwk(with("crv", "P-384")), std::invalid_argument);
    EXPECT_THROW((void)publicPemFromJwk(with("x", "AAAA")), std::invalid_argument);
    EXPECT_THROW((void)publicPemFromJwk(with("y", "not base64url!")), std::invalid_argument);
    // 32 bytes each, but (1, 1) is not a point of P-256.
    std::string one(31, '\0');
    one += '\x01';
    EXPECT_THROW((void)publicPemFromJwk(with("x", json::value(base64UrlEncode(one)))),
                 std::invalid_argument);
    auto off_curve = jwk;
    off_curve["x"] = base64UrlEncode(one);
    off_curve["y"] = base64UrlEncode(one);
    EXPECT_THROW((void)publicPemFromJwk(json::serialize(off_curve)), std::invalid_argument);
}

TEST(JwtKeys, JwksSkipsKeysThatAreNotEs256SigningKeys) {
    auto key = generateSigningKey("k1");
    auto jwk = json::parse(jwkFromPublicPem("k1", key.public_pem)).as_object();
    auto rsa = jwk;
    rsa["kty"] = "RSA";
    auto enc = jwk;
    enc["use"] = "enc";
    enc["kid"] = "k-enc";
    auto no_kid = jwk;
    no_kid.erase("kid");
    json::object doc{{"keys", json::array{jwk, rsa, enc, no_kid}}};
    auto pems = publicPemsFromJwks(json::serialize(doc));
    ASSERT_EQ(pems.size(), 1u);
    EXPECT_EQ(pems[0].first, "k1");
    EXPECT_EQ(pems[0].second, key.public_pem);
    EXPECT_THROW((void)publicPemsFromJwks("{}"), std::invalid_argument);
    EXPECT_THROW((void)publicPemsFromJwks("nope"), std::invalid_argument);
    EXPECT_TRUE(publicPemsFromJwks(R"({"keys":[]})").empty());
}

}  // namespace
}  // namespace restinu::rt
