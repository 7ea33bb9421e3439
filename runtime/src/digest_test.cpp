#include "restinu/rt/digest.hpp"

#include <gtest/gtest.h>

namespace restinu::rt {
namespace {

TEST(Digest, Sha256MatchesTheFips180Vectors) {
    EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, HmacSha256MatchesRfc4231) {
    // RFC 4231, test case 2.
    EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, HmacSha256AppendsAfterWhatIsThere) {
    // RFC 4231, test case 2, written after a header's prefix.
    std::string header = "t=1795661200,v1=";
    appendHmacSha256Hex(header, "Jefe", "what do ya want for nothing?");
    EXPECT_EQ(header,
              "t=1795661200,v1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, HmacSha256KeepsNoStateBetweenMessagesOrKeys) {
    // The context is kept per thread and reset per message: every answer must be the one a
    // fresh context gives, whatever was computed before, under the same key or another.
    // RFC 4231 test cases 1 and 2, interleaved and repeated.
    const std::string key1(20, '\x0b');
    const std::string tc1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    const std::string tc2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    for (int round = 0; round < 3; ++round) {
        EXPECT_EQ(hmacSha256Hex(key1, "Hi There"), tc1);
        EXPECT_EQ(hmacSha256Hex(key1, "Hi There"), tc1);
        EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"), tc2);
    }
    // RFC 4231 test case 6: a key longer than a block is hashed first.
    const std::string long_key(131, '\xaa');
    EXPECT_EQ(hmacSha256Hex(long_key, "Test Using Larger Than Block-Size Key - Hash Key First"),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(hmacSha256Hex(key1, "Hi There"), tc1);
}

TEST(Digest, HexIsLowerCaseTwoDigitsPerByte) {
    EXPECT_EQ(toHex(std::string("\x00\xab\x10", 3)), "00ab10");
    EXPECT_EQ(toHex(""), "");
    std::string all;
    std::string expected;
    static constexpr char kHex[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
        all += static_cast<char>(b);
        expected += kHex[b / 16];
        expected += kHex[b % 16];
    }
    EXPECT_EQ(toHex(all), expected);
}

TEST(Digest, RandomHexAppendsExactlyTheDigitsAsked) {
    for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 32u, 55u}) {
        std::string out = "keep:";
        appendRandomHex(out, n);
        ASSERT_EQ(out.size(), 5 + n);
        EXPECT_EQ(out.substr(0, 5), "keep:");
        EXPECT_EQ(out.find_first_not_of("0123456789abcdef", 5), std::string::npos) << out;
    }
    // Two draws of 32 digits are not the same (a 2^-128 chance), and every digit shows up.
    std::string a;
    std::string b;
    appendRandomHex(a, 32);
    appendRandomHex(b, 32);
    EXPECT_NE(a, b);
    std::string many;
    appendRandomHex(many, 4096);
    for (char c : std::string_view("0123456789abcdef")) {
        EXPECT_NE(many.find(c), std::string::npos) << c;
    }
}

}  // namespace
}  // namespace restinu::rt
