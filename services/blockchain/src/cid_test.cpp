#include "cid.hpp"

#include <gtest/gtest.h>

namespace restinu::blockchain::cid {
namespace {

TEST(Cid, Base32IsRfc4648sLowerCaseWithoutPadding) {
    EXPECT_EQ(base32(""), "");
    EXPECT_EQ(base32("f"), "my");
    EXPECT_EQ(base32("fo"), "mzxq");
    EXPECT_EQ(base32("foo"), "mzxw6");
    EXPECT_EQ(base32("foob"), "mzxw6yq");
    EXPECT_EQ(base32("fooba"), "mzxw6ytb");
    EXPECT_EQ(base32("foobar"), "mzxw6ytboi");
}

TEST(Cid, TheEmptyBlockHasItsWellKnownCid) {
    EXPECT_EQ(ofBytes(""), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
}

TEST(Cid, ADigestComesBackOnlyFromACidOfOurKind) {
    const auto c = ofBytes(R"({"name":"Deed #1"})");
    auto d = digestOf(c);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->size(), 32u);
    EXPECT_EQ("b" + base32(std::string("\x01\x55\x12\x20", 4) + *d), c);
    EXPECT_FALSE(digestOf(c.substr(1)).has_value());            // no multibase prefix
    EXPECT_FALSE(digestOf("B" + c.substr(1)).has_value());      // upper-case base32
    EXPECT_FALSE(digestOf(c.substr(0, 58) + "1").has_value());  // not base32
    EXPECT_FALSE(digestOf("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG").has_value());  // v0
    // The dag-pb codec (0x70), another kind: refused.
    EXPECT_FALSE(digestOf("b" + base32(std::string("\x01\x70\x12\x20", 4) + *d)).has_value());
}

}  // namespace
}  // namespace restinu::blockchain::cid
