#include "stripe_provider.hpp"

#include <gtest/gtest.h>

#include <map>

#include "ledger.hpp"

namespace restinu::payment {
namespace {

// Computed with `openssl dgst -sha256 -hmac whsec_test` over "1700000000.{"id":"evt_1"}".
constexpr std::string_view kPayload = R"({"id":"evt_1"})";
constexpr std::string_view kMac =
    "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925";

TEST(StripeSignature, AcceptsAKnownVectorWithinTheTolerance) {
    const std::string header = "t=1700000000,v1=" + std::string(kMac);
    EXPECT_EQ(verifyStripeSignature(header, kPayload, "whsec_test", 1700000100, 300),
              SignatureCheck::Valid);
    // Another v1 (a secret being rolled) beside the right one still verifies.
    const std::string two = "t=1700000000,v1=00ff,v1=" + std::string(kMac) + ",v0=zz";
    EXPECT_EQ(verifyStripeSignature(two, kPayload, "whsec_test", 1700000000, 300),
              SignatureCheck::Valid);
    EXPECT_EQ(stripeSignature(kPayload, "whsec_test", 1700000000), header);
}

TEST(StripeSignature, RefusesAnotherBodySecretOrAnOldTimestamp) {
    const std::string header = "t=1700000000,v1=" + std::string(kMac);
    EXPECT_EQ(verifyStripeSignature(header, R"({"id":"evt_2"})", "whsec_test", 1700000000, 300),
              SignatureCheck::BadSignature);
    EXPECT_EQ(verifyStripeSignature(header, kPayload, "whsec_other", 1700000000, 300),
              SignatureCheck::BadSignature);
    EXPECT_EQ(verifyStripeSignature(header, kPayload, "whsec_test", 1700000301, 300),
              SignatureCheck::Stale);
    EXPECT_EQ(verifyStripeSignature(header, kPayload, "whsec_test", 1699999699, 300),
              SignatureCheck::Stale);
    // The timestamp is signed: moving it forward breaks the signature.
    const std::string moved = "t=1700000200,v1=" + std::string(kMac);
    EXPECT_EQ(verifyStripeSignature(moved, kPayload, "whsec_test", 1700000200, 300),
              SignatureCheck::BadSignature);
    for (std::string_view bad : {"", "v1=" /*no t*/, "t=abc,v1=00", "t=1700000000", "garbage"}) {
        EXPECT_EQ(verifyStripeSignature(bad, kPayload, "whsec_test", 1700000000, 300),
                  SignatureCheck::Malformed)
            << bad;
    }
}

TEST(StripeForm, EncodesBracketsAndSpacesAsStripeExpects) {
    EXPECT_EQ(formEncode({{"amount", "100"}, {"metadata[restinu_intent]", "pi_1 2"}}),
              "amount=100&metadata%5Brestinu_intent%5D=pi_1%202");
    EXPECT_EQ(parseHttpUrl("http://127.0.0.1:8109"),
              (std::pair<std::string, std::uint16_t>{"127.0.0.1", 8109}));
    EXPECT_THROW(parseHttpUrl("https://api.stripe.com"), std::invalid_argument);
    EXPECT_THROW(parseHttpUrl("http://host:0"), std::invalid_argument);
}

TEST(Ledger, EveryEntryBalancesAndTheLifeOfAnIntentNetsToTheFees) {
    const ledger::Parties p{"pi_1", "b", "s", "INR"};
    const auto hold = ledger::authorise(p, 1'000'000, "pi_1:authorise");
    const auto cap = ledger::capture(p, 1'000'000, 900'000, 9'000, "pi_1:capture");
    const auto ref = ledger::refund(p, 300'000, 3'000, "pi_1:refund:1");
    for (const auto* e : {&hold, &cap, &ref}) {
        EXPECT_TRUE(ledger::balanced(*e)) << e->kind;
    }
    std::map<std::string, std::int64_t> balance;
    for (const auto* e : {&hold, &cap, &ref}) {
        for (const auto& posting : e->postings) {
            balance[posting.account] += posting.amount;
        }
    }
    EXPECT_EQ(balance["escrow"], 0);  // the hold ended with the capture
    EXPECT_EQ(balance["buyer_funds:b"], 0);
    EXPECT_EQ(balance["provider_clearing"], 600'000);  // captured less refunded
    EXPECT_EQ(balance["seller_payable:s"], -(600'000 - 6'000));
    EXPECT_EQ(balance["platform_fees"], -6'000);
    EXPECT_THROW(ledger::capture(p, 100, 101, 0, "x"), std::invalid_argument);
    EXPECT_THROW(ledger::authorise(p, 0, "x"), std::invalid_argument);
    EXPECT_THROW(ledger::refund(p, 10, 11, "x"), std::invalid_argument);
}

}  // namespace
}  // namespace restinu::payment
