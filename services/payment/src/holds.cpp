#include "holds.hpp"

#include <boost/json.hpp>

#include "payments.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::payment {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;

// A string field of at most `max` characters, or an error for it.
std::string text(const json::object& body, const char* field, std::size_t max,
                 std::vector<rt::FieldError>& errors) {
    const auto* v = body.if_contains(field);
    if (v == nullptr || !v->is_string() || v->as_string().empty() || v->as_string().size() > max) {
        errors.push_back(
            {field, "must be a string of 1 to " + std::to_string(max) + " characters"});
        return {};
    }
    return std::string(v->as_string());
}

std::string uuid(const json::object& body, const char* field, std::vector<rt::FieldError>& errors) {
    const auto* v = body.if_contains(field);
    if (v == nullptr || !v->is_string() || !rt::isUuid(v->as_string())) {
        errors.push_back({field, "must be a user's id"});
        return {};
    }
    return std::string(v->as_string());
}

// {"amount": {"amount": minor units > 0, "currency": "INR"}}
std::pair<std::int64_t, std::string> money(const json::object& body,
                                           std::vector<rt::FieldError>& errors) {
    const auto* m = body.if_contains("amount");
    const auto* o = m != nullptr && m->is_object() ? &m->as_object() : nullptr;
    const auto* amount = o != nullptr ? o->if_contains("amount") : nullptr;
    const auto* currency = o != nullptr ? o->if_contains("currency") : nullptr;
    std::pair<std::int64_t, std::string> out;
    if (amount == nullptr || !amount->is_int64() || amount->as_int64() <= 0) {
        errors.push_back({"amount.amount", "must be a positive integer of minor units"});
    } else {
        out.first = amount->as_int64();
    }
    if (currency == nullptr || !currency->is_string() || currency->as_string().size() != 3) {
        errors.push_back({"amount.currency", "must be an ISO 4217 code"});
    } else {
        out.second = std::string(currency->as_string());
    }
    return out;
}

void refuseInvalid(const std::vector<rt::FieldError>& errors) {
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the hold request has invalid fields", errors);
    }
}

json::object intentJson(const IntentRecord& i) {
    return json::object{{"id", i.id},
                        {"status", i.status},
                        {"amount", json::object{{"amount", i.amount}, {"currency", i.currency}}},
                        {"amount_captured", i.amount_captured}};
}

// The outcome as the caller's saga reads it: 200 done, 402 refused for good, 503 ask again.
rt::Response answer(const PaymentOutcome& o) {
    switch (o.kind) {
        case PaymentOutcome::Kind::Done:
            return rt::jsonResponse(
                200, json::object{{"intent", intentJson(o.intent)}, {"replayed", o.replayed}});
        case PaymentOutcome::Kind::Declined:
            throw ApiError(contracts::problems::kPaymentDeclined, o.reason);
        case PaymentOutcome::Kind::Unavailable:
            break;
    }
    throw ApiError(problems::kUnavailable, o.reason);
}

}  // namespace

rt::Task<rt::Response> Holds::authorise(rt::Request& req) {
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto key = text(body, "key", 200, errors);
    NewIntent intent;
    intent.buyer_id = uuid(body, "payer_id", errors);
    intent.seller_id = uuid(body, "payee_id", errors);
    std::tie(intent.amount, intent.currency) = money(body, errors);
    intent.payment_method = text(body, "payment_method", 64, errors);
    refuseInvalid(errors);
    auto o = co_await payments_.authorise(std::move(key), std::move(intent));
    co_return answer(o);
}

rt::Task<rt::Response> Holds::capture(rt::Request& req) {
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    const auto hold_key = text(body, "hold_key", 200, errors);
    auto key = text(body, "key", 200, errors);
    const auto amount = money(body, errors).first;
    refuseInvalid(errors);
    auto intent = co_await payments_.intentOfKey(hold_key);
    if (!intent) {
        throw ApiError(problems::kNotFound, "no hold was made with this key");
    }
    auto o = co_await payments_.capture(std::move(key), *intent, amount);
    co_return answer(o);
}

rt::Task<rt::Response> Holds::release(rt::Request& req) {
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    const auto hold_key = text(body, "hold_key", 200, errors);
    auto key = text(body, "key", 200, errors);
    refuseInvalid(errors);
    auto intent = co_await payments_.intentOfKey(hold_key);
    if (!intent) {
        // Never asked for (or the request never reached us): nothing is held.
        co_return rt::jsonResponse(200, json::object{{"intent", nullptr}, {"replayed", false}});
    }
    auto o = co_await payments_.cancel(std::move(key), *intent);
    if (o.kind == PaymentOutcome::Kind::Declined && o.intent.status == "canceled") {
        o.kind = PaymentOutcome::Kind::Done;  // released before: the same end
    }
    co_return answer(o);
}

}  // namespace restinu::payment
