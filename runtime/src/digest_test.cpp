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

TEST(Digest, HexIsLowerCaseTwoDigitsPerByte) {
    EXPECT_EQ(toHex(std::string("\x00\xab\x10", 3)), "00ab10");
    EXPECT_EQ(toHex(""), "");
}

}  // namespace
}  // namespace restinu::rt
