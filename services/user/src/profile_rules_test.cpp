#include "profile_rules.hpp"

#include <gtest/gtest.h>

namespace restinu::user::domain {
namespace {

TEST(Phone, E164NumbersAreKeptAndTypedSeparatorsRemoved) {
    EXPECT_EQ(normalisePhone("+919876543210"), "+919876543210");
    EXPECT_EQ(normalisePhone(" +91 98765-43210 "), "+919876543210");
    EXPECT_EQ(normalisePhone("+1 (415) 555.2671"), "+14155552671");
    EXPECT_EQ(normalisePhone("+44 20 7946 0958"), "+442079460958");
}

TEST(Phone, NonE164IsRefused) {
    EXPECT_EQ(normalisePhone("9876543210"), std::nullopt);         // no '+'
    EXPECT_EQ(normalisePhone("+0919876543210"), std::nullopt);     // country code starts with 0
    EXPECT_EQ(normalisePhone("+1234567"), std::nullopt);           // 7 digits: too short
    EXPECT_EQ(normalisePhone("+1234567890123456"), std::nullopt);  // 16 digits: too long
    EXPECT_EQ(normalisePhone("+91 98765 4321x"), std::nullopt);
    EXPECT_EQ(normalisePhone("++919876543210"), std::nullopt);
    EXPECT_EQ(normalisePhone(""), std::nullopt);
}

TEST(Language, Bcp47TagsInCanonicalCase) {
    EXPECT_EQ(normaliseLanguage("en"), "en");
    EXPECT_EQ(normaliseLanguage("HI-in"), "hi-IN");
    EXPECT_EQ(normaliseLanguage("en_IN"), "en-IN");
    EXPECT_EQ(normaliseLanguage("zh-hant-tw"), "zh-Hant-TW");
    EXPECT_EQ(normaliseLanguage("es-419"), "es-419");
    EXPECT_EQ(normaliseLanguage("kok"), "kok");
}

TEST(Language, AnythingElseIsRefused) {
    for (std::string_view bad : {"", "e", "english", "en-", "en-INDIA", "en-IN-US", "12", "en--IN",
                                 "en-Latn-Latn", "en IN"}) {
        EXPECT_EQ(normaliseLanguage(bad), std::nullopt) << bad;
    }
}

TEST(Name, TrimmedNonEmptyAndBounded) {
    EXPECT_EQ(normaliseName("  Asha Rao "), "Asha Rao");
    EXPECT_EQ(normaliseName("आशा राव"), "आशा राव");
    EXPECT_EQ(normaliseName("   "), std::nullopt);
    EXPECT_EQ(normaliseName(std::string(101, 'a')), std::nullopt);
    EXPECT_EQ(normaliseName(std::string(100, 'a')), std::string(100, 'a'));
    EXPECT_EQ(normaliseName("tab\there"), std::nullopt);
    EXPECT_EQ(normaliseName("\xff\xfe"), std::nullopt);
}

TEST(Role, OnlyTheThreeRoles) {
    EXPECT_TRUE(isRole("investor"));
    EXPECT_TRUE(isRole("agent"));
    EXPECT_TRUE(isRole("admin"));
    EXPECT_FALSE(isRole("Admin"));
    EXPECT_FALSE(isRole("root"));
    EXPECT_FALSE(isRole(""));
}

}  // namespace
}  // namespace restinu::user::domain
