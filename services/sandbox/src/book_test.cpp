#include "book.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace restinu::sandbox {
namespace {

namespace json = boost::json;

std::map<std::string, std::string> create(std::string method, std::string amount = "1000") {
    return {{"amount", std::move(amount)},         {"currency", "inr"},
            {"capture_method", "manual"},          {"confirm", "true"},
            {"payment_method", std::move(method)}, {"metadata[restinu_intent]", "pi_ours"}};
}

json::object body(const Answer& a) {
    return json::parse(a.body).as_object();
}

TEST(SandboxBook, AnIdempotencyKeyReplaysItsAnswerAndRefusesOtherParameters) {
    Book book(std::chrono::milliseconds(0));
    std::vector<Webhook> sent;
    EXPECT_FALSE(book.replay("k1", "fp"));
    auto first = book.create(create("pm_card_visa"), sent);
    book.remember("k1", "fp", first);
    auto again = book.replay("k1", "fp");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, first.body);
    auto other = book.replay("k1", "another request");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 400);
    EXPECT_EQ(body(*other).at("error").at("type").as_string(), "idempotency_error");
    // A 500 is a crash on the provider's side: nothing is kept under its key.
    auto failed = book.create(create("pm_sandbox_error_500"), sent);
    EXPECT_EQ(failed.status, 500);
    book.remember("k2", "fp", failed);
    EXPECT_FALSE(book.replay("k2", "fp"));
}

TEST(SandboxBook, DeclinesHoldsCapturesAndRefundsAsStripeAnswers) {
    Book book(std::chrono::milliseconds(2500));
    std::vector<Webhook> sent;
    auto declined = book.create(create("pm_card_chargeDeclined"), sent);
    EXPECT_EQ(declined.status, 402);
    EXPECT_EQ(body(declined).at("error").at("code").as_string(), "card_declined");
    EXPECT_EQ(book.create(create("pm_sandbox_timeout"), sent).delay.count(), 2500);
    auto held = book.create(create("pm_card_visa", "1000"), sent);
    ASSERT_EQ(held.status, 200);
    const std::string id(body(held).at("id").as_string());
    EXPECT_EQ(body(held).at("status").as_string(), "requires_capture");
    EXPECT_EQ(book.capture(id, {{"amount_to_capture", "1001"}}, sent).status, 400);
    auto captured = book.capture(id, {{"amount_to_capture", "800"}}, sent);
    EXPECT_EQ(body(captured).at("amount_received").as_int64(), 800);
    EXPECT_EQ(book.capture(id, {}, sent).status, 400);  // captured already
    EXPECT_EQ(book.refund({{"payment_intent", id}, {"amount", "500"}}, sent).status, 200);
    EXPECT_EQ(book.refund({{"payment_intent", id}, {"amount", "301"}}, sent).status, 400);
    EXPECT_EQ(body(book.get(id)).at("latest_charge").at("amount_refunded").as_int64(), 500);
    auto found = body(book.search("metadata['restinu_intent']:'pi_ours'"));
    EXPECT_EQ(found.at("data").as_array().size(), 3U);  // every intent made for it above
    // Every state change sent a webhook (declined, two holds, the capture, the refund, ...).
    EXPECT_EQ(book.webhooks().size(), sent.size());
    EXPECT_GE(sent.size(), 5U);
}

TEST(SandboxBook, ListingPagesInCreationOrder) {
    Book book(std::chrono::milliseconds(0));
    std::vector<Webhook> sent;
    for (int i = 0; i < 5; ++i) {
        book.create(create("pm_card_visa"), sent);
    }
    auto page = body(book.list(3, ""));
    ASSERT_EQ(page.at("data").as_array().size(), 3U);
    EXPECT_TRUE(page.at("has_more").as_bool());
    const std::string last(page.at("data").as_array().back().at("id").as_string());
    auto rest = body(book.list(3, last));
    EXPECT_EQ(rest.at("data").as_array().size(), 2U);
    EXPECT_FALSE(rest.at("has_more").as_bool());
}

TEST(SandboxBook, FormsDecodeAndMalformedEscapesAreRefused) {
    auto form = parseForm("amount=100&metadata%5Bpurchase_id%5D=a%20b");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->at("metadata[purchase_id]"), "a b");
    EXPECT_FALSE(parseForm("amount=%zz"));
}

}  // namespace
}  // namespace restinu::sandbox
