#include "password_policy.hpp"

#include <gtest/gtest.h>

#include <string>

namespace restinu::user::domain {
namespace {

TEST(Utf8Length, CountsCodePointsNotBytes) {
    EXPECT_EQ(utf8Length(""), 0u);
    EXPECT_EQ(utf8Length("abc"), 3u);
    EXPECT_EQ(utf8Length("\xC3\xA9"), 1u);          // é
    EXPECT_EQ(utf8Length("\xE0\xA4\x85"), 1u);      // Devanagari अ
    EXPECT_EQ(utf8Length("\xF0\x9F\x94\x91"), 1u);  // U+1F511 key emoji
    EXPECT_EQ(utf8Length("\xF4\x8F\xBF\xBF"), 1u);  // U+10FFFF, the last code point
}

TEST(Utf8Length, RejectsMalformedSequences) {
    EXPECT_FALSE(utf8Length("\x80"));                  // lone continuation byte
    EXPECT_FALSE(utf8Length("\xC3"));                  // truncated
    EXPECT_FALSE(utf8Length("\xE0\xA4"));              // truncated
    EXPECT_FALSE(utf8Length("\xC3\x28"));              // bad continuation
    EXPECT_FALSE(utf8Length("\xC0\xAF"));              // overlong '/'
    EXPECT_FALSE(utf8Length("\xE0\x80\xAF"));          // overlong '/'
    EXPECT_FALSE(utf8Length("\xED\xA0\x80"));          // surrogate U+D800
    EXPECT_FALSE(utf8Length("\xF4\x90\x80\x80"));      // U+110000
    EXPECT_FALSE(utf8Length("\xF8\x88\x80\x80\x80"));  // 5-byte form
    EXPECT_FALSE(utf8Length("\xFF"));
}

TEST(CheckPassword, AcceptsLongUncommonPassphrase) {
    auto r = checkPassword("tangerine kayak meridian", "anna@example.com");
    EXPECT_TRUE(r.ok) << r.reason;
    EXPECT_TRUE(r.reason.empty());
}

TEST(CheckPassword, NoCompositionRules) {
    EXPECT_TRUE(checkPassword("onlylowercaseletters", "").ok);
    EXPECT_TRUE(checkPassword("491827364518", "").ok);
    EXPECT_TRUE(checkPassword("   spaces count too  ", "").ok);
}

TEST(CheckPassword, RejectsShorterThanTwelveCodePoints) {
    auto r = checkPassword("zq8#vRt2!kL", "");  // 11
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.reason.find("at least 12"), std::string::npos);
    EXPECT_TRUE(checkPassword("zq8#vRt2!kLm", "").ok);  // 12
}

TEST(CheckPassword, CountsCodePointsForLength) {
    std::string e11;
    for (int i = 0; i < 11; ++i) {
        e11 += "\xC3\xA9";  // é: 22 bytes, 11 code points
    }
    EXPECT_FALSE(checkPassword(e11 + "", "").ok);
    EXPECT_NE(checkPassword(e11, "").reason.find("at least 12"), std::string::npos);
    EXPECT_TRUE(checkPassword(e11 + "x", "").ok);
    // 128 four-byte emoji are 512 bytes but 128 characters: allowed.
    std::string keys;
    for (int i = 0; i < 64; ++i) {
        keys += "\xF0\x9F\x94\x91\xF0\x9F\x94\x92";
    }
    EXPECT_TRUE(checkPassword(keys, "").ok);
}

TEST(CheckPassword, RejectsLongerThan128CodePoints) {
    std::string p;
    for (int i = 0; i < 129; ++i) {
        p += static_cast<char>('a' + i % 26);
    }
    EXPECT_NE(checkPassword(p, "").reason.find("at most 128"), std::string::npos);
    p.pop_back();
    EXPECT_TRUE(checkPassword(p, "").ok);
}

TEST(CheckPassword, RejectsInvalidUtf8) {
    auto r = checkPassword("correct horse \xC0\xAF battery", "");
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.reason.find("UTF-8"), std::string::npos);
}

TEST(CheckPassword, RejectsOneRepeatedCharacter) {
    EXPECT_NE(checkPassword("zzzzzzzzzzzzzzzz", "").reason.find("repeated"), std::string::npos);
}

TEST(CheckPassword, RejectsCommonPasswordsOfAnyCase) {
    for (const char* p : {"password1234", "qwertyuiop123", "1q2w3e4r5t6y", "PASSWORD1234",
                          "QwertyUiop123", "1Q2W3E4R5T6Y", "iloveyou1234", "Password@1234"}) {
        auto r = checkPassword(p, "");
        EXPECT_FALSE(r.ok) << p;
        EXPECT_NE(r.reason.find("common"), std::string::npos) << p;
    }
}

TEST(CommonPasswords, ListHoldsTheBestKnownOnes) {
    for (const char* p : {"123456", "password", "12345678", "qwerty", "123456789", "iloveyou",
                          "dragon", "monkey", "letmein", "111111"}) {
        EXPECT_TRUE(isCommonPassword(p)) << p;
    }
    EXPECT_TRUE(isCommonPassword("DrAgOn"));
    EXPECT_FALSE(isCommonPassword("tangerine kayak meridian"));
    EXPECT_FALSE(isCommonPassword(""));
    EXPECT_FALSE(isCommonPassword("# common passwords"));
}

TEST(CheckPassword, RejectsPasswordContainingEmailLocalPart) {
    auto r = checkPassword("my-anna.k-is-great", "Anna.K@Example.com");
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.reason.find("e-mail"), std::string::npos);
    EXPECT_FALSE(checkPassword("xxANNA.Kxxxxxxx", "anna.k@example.com").ok);
}

TEST(CheckPassword, IgnoresLocalPartShorterThanFour) {
    EXPECT_TRUE(checkPassword("bob likes long walks", "bob@example.com").ok);
    EXPECT_FALSE(checkPassword("bobby likes long walks", "bobby@example.com").ok);
}

TEST(CheckPassword, SkipsEmailRuleForInvalidAddress) {
    EXPECT_TRUE(checkPassword("my-annak-is-great", "annak").ok);
    EXPECT_TRUE(checkPassword("my-annak-is-great", "").ok);
}

TEST(NormaliseEmail, TrimsAndLowerCases) {
    EXPECT_EQ(normaliseEmail("  Anna.Maria@Example.COM \n"), "anna.maria@example.com");
    EXPECT_EQ(normaliseEmail("a@b.co"), "a@b.co");
    EXPECT_EQ(normaliseEmail("first+tag@sub.example.in"), "first+tag@sub.example.in");
}

TEST(NormaliseEmail, RequiresExactlyOneAt) {
    EXPECT_FALSE(normaliseEmail("anna.example.com"));
    EXPECT_FALSE(normaliseEmail("anna@@example.com"));
    EXPECT_FALSE(normaliseEmail("anna@x@example.com"));
}

TEST(NormaliseEmail, RequiresLocalPartAndDottedDomain) {
    EXPECT_FALSE(normaliseEmail("@example.com"));
    EXPECT_FALSE(normaliseEmail("anna@"));
    EXPECT_FALSE(normaliseEmail("anna@localhost"));
    EXPECT_FALSE(normaliseEmail("anna@.com"));
    EXPECT_FALSE(normaliseEmail("anna@example."));
    EXPECT_FALSE(normaliseEmail(""));
    EXPECT_FALSE(normaliseEmail("   "));
}

TEST(NormaliseEmail, RejectsSpacesAndControlCharacters) {
    EXPECT_FALSE(normaliseEmail("an na@example.com"));
    EXPECT_FALSE(normaliseEmail("anna@exa\tmple.com"));
    EXPECT_FALSE(normaliseEmail(std::string("anna@exa") + '\0' + "mple.com"));
    EXPECT_FALSE(normaliseEmail("anna\x7F@example.com"));
    EXPECT_FALSE(normaliseEmail("anna\r\n@example.com"));
}

TEST(NormaliseEmail, AllowsAtMost254Characters) {
    std::string domain = "@example.com";  // 12
    std::string ok = std::string(242, 'a') + domain;
    ASSERT_EQ(ok.size(), 254u);
    EXPECT_TRUE(normaliseEmail(ok));
    EXPECT_FALSE(normaliseEmail("a" + ok));
    EXPECT_TRUE(normaliseEmail("  " + ok + "  "));  // length counted after trimming
}

}  // namespace
}  // namespace restinu::user::domain
