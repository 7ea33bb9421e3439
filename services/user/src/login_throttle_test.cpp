#include "login_throttle.hpp"

#include <gtest/gtest.h>

namespace restinu::user {
namespace {

using std::chrono::seconds;

TEST(ThrottleDelay, FreeFailuresThenDoublingUpToTheCap) {
    ThrottlePolicy p{3, seconds(900)};
    EXPECT_EQ(throttleDelay(0, p), seconds(0));
    EXPECT_EQ(throttleDelay(3, p), seconds(0));
    EXPECT_EQ(throttleDelay(4, p), seconds(2));
    EXPECT_EQ(throttleDelay(5, p), seconds(4));
    EXPECT_EQ(throttleDelay(12, p), seconds(512));
    EXPECT_EQ(throttleDelay(13, p), seconds(900));
    EXPECT_EQ(throttleDelay(1'000'000, p), seconds(900));  // no overflow
}

TEST(LoginThrottle, KeysAreTheAddressAndTheAddressWithTheAccount) {
    LoginThrottleSettings s;
    LoginThrottle t(s, "203.0.113.7", "a@example.com");
    EXPECT_EQ(t.addressKey(), "ip:203.0.113.7");
    EXPECT_EQ(t.pairKey(), "ip-account:203.0.113.7 a@example.com");
}

}  // namespace
}  // namespace restinu::user
