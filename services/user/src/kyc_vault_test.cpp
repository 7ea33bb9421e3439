#include "kyc_vault.hpp"

#include <gtest/gtest.h>

namespace restinu::user {
namespace {

KycVault vault(const std::string& b64) {
    std::string why;
    auto v = KycVault::fromBase64(b64, &why);
    EXPECT_TRUE(v.has_value()) << why;
    return *v;
}

TEST(KycVault, SealedNumbersOpenWithTheKeyAndNeverHoldThePlainText) {
    auto v = vault(KycVault::generateKeyBase64());
    auto sealed = v.seal("234123412346");
    EXPECT_EQ(sealed.find("234123412346"), std::string::npos);
    EXPECT_EQ(sealed.size(), 1 + 24 + 16 + 12u);
    EXPECT_EQ(v.open(sealed), "234123412346");
    // A fresh nonce each time: the same number never seals to the same bytes.
    EXPECT_NE(v.seal("234123412346"), sealed);
}

TEST(KycVault, AnotherKeyOrAnAlteredBoxDoesNotOpen) {
    auto v = vault(KycVault::generateKeyBase64());
    auto other = vault(KycVault::generateKeyBase64());
    auto sealed = v.seal("ABCPE1234F");
    EXPECT_EQ(other.open(sealed), std::nullopt);
    for (std::size_t i = 0; i < sealed.size(); i += 7) {
        auto bent = sealed;
        bent[i] = static_cast<char>(bent[i] ^ 0x01);
        EXPECT_EQ(v.open(bent), std::nullopt) << i;
    }
    EXPECT_EQ(v.open(""), std::nullopt);
    EXPECT_EQ(v.open(sealed.substr(0, 20)), std::nullopt);
}

TEST(KycVault, FingerprintsAreStablePerKeyAndTypeAndDifferAcrossKeys) {
    // 32 bytes 0x00..0x1f, base64: a fixed key gives a fixed fingerprint across runs.
    auto fixed = vault("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    auto fp = fixed.fingerprintHex("pan", "ABCPE1234F");
    EXPECT_EQ(fp.size(), 64u);
    EXPECT_EQ(fp, fixed.fingerprintHex("pan", "ABCPE1234F"));
    EXPECT_NE(fp, fixed.fingerprintHex("passport", "ABCPE1234F"));
    EXPECT_NE(fp, fixed.fingerprintHex("pan", "ABCPE1234G"));
    EXPECT_NE(fp, vault(KycVault::generateKeyBase64()).fingerprintHex("pan", "ABCPE1234F"));
}

TEST(KycVault, KeysMustBe32BytesOfBase64) {
    std::string why;
    EXPECT_FALSE(KycVault::fromBase64("", &why).has_value());
    EXPECT_FALSE(why.empty());
    EXPECT_FALSE(KycVault::fromBase64("c2hvcnQ=", &why).has_value());  // "short"
    EXPECT_FALSE(KycVault::fromBase64("not base64 at all!!", &why).has_value());
    EXPECT_TRUE(KycVault::fromBase64(KycVault::generateKeyBase64(), &why).has_value());
}

}  // namespace
}  // namespace restinu::user
