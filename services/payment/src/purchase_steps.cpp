#include "purchase_steps.hpp"

#include <boost/json.hpp>

#include "agreement.hpp"
#include "payments.hpp"
#include "property_client.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/service_client.hpp"
#include "restinu/rt/worker_pool.hpp"
#include "views.hpp"

namespace restinu::payment {
namespace {

using K = StepOutcome::Kind;

StepOutcome fromPayment(const PaymentOutcome& o) {
    switch (o.kind) {
        case PaymentOutcome::Kind::Done:
            return {K::Ok, {}, o.intent.id};
        case PaymentOutcome::Kind::Declined:
            return {K::Fail, o.reason, {}};
        case PaymentOutcome::Kind::Unavailable:
            break;
    }
    return {K::Retry, o.reason, {}};
}

std::string today() {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace

std::string StepRunner::keyOf(const PurchaseRow& p, std::string_view operation) {
    return "purchase:" + p.id + ":" + std::string(operation);
}

rt::Task<StepOutcome> StepRunner::forward(const PurchaseRow& p) {
    if (p.step == "reserve") {
        co_return co_await property(p, "reserve", false);
    }
    if (p.step == "kyc") {
        auto conn = co_await pool_->acquire();
        const bool approved = co_await kycApproved(conn, p.buyer_id);
        co_return approved ? StepOutcome{}
                           : StepOutcome{K::Fail, "the buyer's KYC is not approved", {}};
    }
    if (p.step == "authorise") {
        NewIntent intent{p.id, p.buyer_id, p.seller_id, p.charge, p.currency, p.payment_method};
        auto o = co_await payments_->authorise(keyOf(p, "authorise"), std::move(intent));
        co_return fromPayment(o);
    }
    if (p.step == "agreement") {
        co_return co_await agreement(p);
    }
    if (p.step == "transfer_title") {
        co_return co_await property(p, "transfer", false);
    }
    if (p.step == "transfer_deed") {
        co_return co_await deed(p, "forward", false);
    }
    if (p.step == "capture") {
        auto o = co_await payments_->capture(keyOf(p, "capture"), p.intent_id, p.charge);
        co_return fromPayment(o);
    }
    if (p.step == "mark_sold") {
        co_return co_await property(p, "mark_sold", false);
    }
    co_return StepOutcome{K::Fail, "unknown step " + p.step, {}};
}

rt::Task<StepOutcome> StepRunner::backward(const PurchaseRow& p) {
    if (p.step == "reserve") {
        co_return co_await property(p, "release", true);
    }
    if (p.step == "authorise") {
        co_return co_await voidHold(p);
    }
    if (p.step == "transfer_title") {
        co_return co_await property(p, "revert_transfer", true);
    }
    if (p.step == "transfer_deed") {
        co_return co_await deed(p, "back", true);
    }
    if (p.step == "capture") {
        co_return co_await refundCapture(p);
    }
    co_return StepOutcome{};  // kyc, agreement, mark_sold: nothing to undo
}

rt::Task<StepOutcome> StepRunner::property(const PurchaseRow& p, const char* action,
                                           bool compensating) {
    auto reply =
        co_await property_->step(p.listing_id, p.id, action, p.buyer_id, p.listing_version);
    switch (reply.kind) {
        case PropertyClient::Reply::Kind::Ok:
            co_return StepOutcome{};
        case PropertyClient::Reply::Kind::Refused:
            // A compensation the listing refuses is retried (and visible) rather than skipped.
            co_return StepOutcome{compensating ? K::Retry : K::Fail, reply.detail, {}};
        case PropertyClient::Reply::Kind::Unavailable:
            break;
    }
    co_return StepOutcome{K::Retry, reply.detail, {}};
}

rt::Task<StepOutcome> StepRunner::deed(const PurchaseRow& p, const char* direction,
                                       bool compensating) {
    auto conn = co_await pool_->acquire();
    auto listing = co_await findListing(conn, p.listing_id);
    conn.release();
    // A listing under purchase is reserved, and only an active one is tokenized: this does not
    // change between the step and its compensation.
    if (!listing || !listing->tokenized) {
        co_return StepOutcome{};
    }
    const std::string body = boost::json::serialize(boost::json::object{
        {"purchase_id", p.id}, {"buyer_id", p.buyer_id}, {"direction", direction}});
    auto reply = co_await chain_->post("/internal/v1/deeds/" + p.listing_id + "/transfers", body);
    using R = rt::ServiceClient::Reply::Kind;
    if (reply.kind == R::Ok) {
        co_return reply.status == 202 ? StepOutcome{K::Wait, "the deed's transaction confirms", {}}
                                      : StepOutcome{};
    }
    if (reply.kind == R::Refused && !compensating) {
        co_return StepOutcome{K::Fail, reply.detail, {}};
    }
    co_return StepOutcome{K::Retry, reply.detail, {}};
}

rt::Task<StepOutcome> StepRunner::agreement(const PurchaseRow& p) {
    if (!p.agreement_sha256.empty()) {
        co_return StepOutcome{};
    }
    auto conn = co_await pool_->acquire();
    auto listing = co_await findListing(conn, p.listing_id);
    conn.release();
    AgreementFacts facts{p.id,
                         p.buyer_id,
                         p.seller_id,
                         p.listing_id,
                         listing ? listing->title : std::string("Listing ") + p.listing_id,
                         listing ? listing->address : std::string{},
                         p.price,
                         p.charge,
                         p.currency,
                         today()};
    auto render = [facts]() {
        auto pdf = renderAgreement(facts);
        auto sha = rt::sha256Hex(pdf);
        return std::make_pair(std::move(pdf), std::move(sha));
    };
    auto [pdf, sha] = co_await workers_->run(std::move(render));
    PurchaseStore store(*pool_);
    co_await store.saveAgreement(p.id, pdf, sha);
    co_return StepOutcome{};
}

rt::Task<StepOutcome> StepRunner::voidHold(const PurchaseRow& p) {
    auto intent = co_await payments_->intentOfKey(keyOf(p, "authorise"));
    if (!intent) {
        co_return StepOutcome{};  // never asked for a hold
    }
    auto o = co_await payments_->cancel(keyOf(p, "void"), *intent);
    if (o.kind == PaymentOutcome::Kind::Declined &&
        (o.intent.status == "captured" || o.intent.status == "canceled")) {
        co_return StepOutcome{};  // a capture is refunded by its own compensation
    }
    auto out = fromPayment(o);
    if (out.kind == K::Fail) {
        out.kind = K::Retry;
    }
    co_return out;
}

rt::Task<StepOutcome> StepRunner::refundCapture(const PurchaseRow& p) {
    auto intent = co_await payments_->intentOfKey(keyOf(p, "authorise"));
    if (!intent) {
        co_return StepOutcome{};
    }
    auto settled = co_await payments_->settleCapture(keyOf(p, "capture"), *intent, p.charge);
    if (settled.kind == PaymentOutcome::Kind::Declined) {
        co_return StepOutcome{};  // nothing was captured
    }
    if (settled.kind == PaymentOutcome::Kind::Unavailable) {
        co_return StepOutcome{K::Retry, settled.reason, {}};
    }
    auto o = co_await payments_->refund(keyOf(p, "refund"), *intent, p.charge);
    if (o.kind == PaymentOutcome::Kind::Done) {
        co_return StepOutcome{};
    }
    co_return StepOutcome{K::Retry, o.reason, {}};
}

}  // namespace restinu::payment
