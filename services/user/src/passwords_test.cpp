#include "passwords.hpp"

#include <gtest/gtest.h>

namespace restinu::user {
namespace {

TEST(Passwords, HashVerifiesOnlyTheSamePassword) {
    auto h = hashPassword("correct horse battery staple");
    EXPECT_EQ(h.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << h;
    EXPECT_TRUE(verifyPassword(h, "correct horse battery staple"));
    EXPECT_FALSE(verifyPassword(h, "correct horse battery stapler"));
    EXPECT_FALSE(verifyPassword(h, ""));
}

TEST(Passwords, SaltMakesEqualPasswordsHashDifferently) {
    EXPECT_NE(hashPassword("same password 123"), hashPassword("same password 123"));
}

TEST(Passwords, MalformedHashIsFalseNotACrash) {
    EXPECT_FALSE(verifyPassword("not a hash", "x"));
    EXPECT_FALSE(verifyPassword("", "x"));
}

TEST(Passwords, WeakerHashesNeedARehash) {
    auto weak = hashPassword("some password here", PasswordCost{1, std::size_t{8} << 20});
    EXPECT_TRUE(needsRehash(weak));
    EXPECT_FALSE(needsRehash(hashPassword("some password here")));
}

TEST(Passwords, DecoyIsAnArgon2idHashOfTheSameCost) {
    EXPECT_EQ(decoyHash().rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u);
    EXPECT_FALSE(verifyPassword(decoyHash(), "password"));
}

}  // namespace
}  // namespace restinu::user
