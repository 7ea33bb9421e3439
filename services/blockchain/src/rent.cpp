#include "rent.hpp"

#include <boost/json.hpp>
#include <regex>

#include "abi.hpp"
#include "platform.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "tokenize_store.hpp"
#include "tx_manager.hpp"
#include "views.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
namespace problems = rt::problems;
using eth::abi::Value;

// Fixed limits: an estimate of approve or deposit would revert until the mint before it is in.
constexpr std::int64_t kMintGas = 120'000;
constexpr std::int64_t kApproveGas = 80'000;
constexpr std::int64_t kDepositGas = 250'000;

struct Body {
    std::int64_t amount = 0;
    std::string period;
};

Body parse(const json::object& o) {
    std::vector<rt::FieldError> errors;
    Body b;
    const auto* money = o.if_contains("amount");
    const auto* value =
        money != nullptr && money->is_object() ? money->as_object().if_contains("amount") : nullptr;
    const auto* currency = money != nullptr && money->is_object()
                               ? money->as_object().if_contains("currency")
                               : nullptr;
    if (value == nullptr || !value->is_int64() || value->as_int64() < 1) {
        errors.push_back({"amount.amount", "must be a positive whole number of paise"});
    } else {
        b.amount = value->as_int64();
    }
    if (currency == nullptr || !currency->is_string() || currency->as_string() != "INR") {
        errors.push_back({"amount.currency", "must be INR"});
    }
    static const std::regex kPeriod("^[0-9]{4}-(0[1-9]|1[0-2])$");
    const auto* period = o.if_contains("period");
    if (period == nullptr || !period->is_string() ||
        !std::regex_match(std::string(period->as_string()), kPeriod)) {
        errors.push_back({"period", "must be a month as YYYY-MM"});
    } else {
        b.period = std::string(period->as_string());
    }
    if (!errors.empty()) {
        throw rt::ApiError(problems::kValidation, "the rent payment has invalid fields", errors);
    }
    return b;
}

json::object render(const std::string& id, const std::string& period, std::int64_t amount,
                    const std::string& tx_id, const std::string& state) {
    return json::object{{"property_id", id},
                        {"period", period},
                        {"amount", json::object{{"amount", amount}, {"currency", "INR"}}},
                        {"deposit_tx_id", tx_id},
                        {"state", state}};
}

}  // namespace

rt::Task<rt::Response> RentDeposits::deposit(rt::Request& req) {
    const std::string id(req.param("id"));
    if (!rt::isUuid(id)) {
        throw rt::ApiError(problems::kNotFound, "no such listing");
    }
    const auto body = parse(rt::parseJsonObject(req));
    if (tx_ == nullptr) {
        throw rt::ApiError(problems::kUnavailable,
                           "no chain operator key is configured (chain.operator_key)");
    }
    auto conn = co_await pool_.acquire();
    auto listing = co_await findListing(conn, id);
    auto tokenized = co_await TokenizeStore::find(conn, id);
    auto earlier = co_await conn.query(
        "SELECT amount_minor, deposit_tx_id::text, t.state FROM chain_rent_payments r JOIN "
        "chain_transactions t ON t.id = r.deposit_tx_id WHERE r.property_id = $1::uuid AND "
        "r.period = $2",
        id, body.period);
    conn.release();
    if (!listing) {
        throw rt::ApiError(problems::kNotFound, "no such listing");
    }
    if (listing->owner_id != req.identity->user_id && !req.identity->hasRole("admin")) {
        throw rt::ApiError(problems::kForbidden, "only the listing's owner or an admin pays rent");
    }
    if (!tokenized || tokenized->state != "listed") {
        throw rt::ApiError(problems::kConflict, "the listing is not tokenized (listed) yet");
    }
    if (earlier.rows() == 1) {
        if (earlier.getInt(0, 0) != body.amount) {
            throw rt::ApiError(problems::kConflict, "the rent for " + body.period +
                                                        " was paid already, with another amount");
        }
        co_return rt::jsonResponse(
            200, render(id, body.period, body.amount, std::string(earlier.get(0, 1)),
                        std::string(earlier.get(0, 2))));
    }
    auto platform = co_await loadPlatform(pool_);
    if (!platform) {
        throw rt::ApiError(problems::kUnavailable, "the platform's contracts are not deployed");
    }
    const auto shares = *eth::Address::parse(tokenized->shares_address);
    const auto amount = Value::uint(static_cast<std::uint64_t>(body.amount));
    const std::string reference = id + ":" + body.period;
    TxIntent mint;
    mint.purpose = "rent.mint";
    mint.reference = reference;
    mint.to = platform->payment_token;
    mint.gas_limit = kMintGas;
    mint.data =
        eth::abi::encodeCall("mint(address,uint256)", {Value::address(tx_->address()), amount});
    TxIntent approve = mint;
    approve.purpose = "rent.approve";
    approve.gas_limit = kApproveGas;
    approve.data =
        eth::abi::encodeCall("approve(address,uint256)", {Value::address(shares), amount});
    TxIntent deposit = mint;
    deposit.purpose = "rent.deposit";
    deposit.to = shares;
    deposit.gas_limit = kDepositGas;
    deposit.data = eth::abi::encodeCall("depositRent(uint256)", {amount});
    const auto fees = co_await tx_->fees();
    std::string deposit_id;
    co_await pool_.transaction([&](rt::PgConn& c) -> rt::Task<void> {
        co_await tx_->enqueue(c, mint, fees);
        co_await tx_->enqueue(c, approve, fees);
        auto d = co_await tx_->enqueue(c, deposit, fees);
        deposit_id = d.id;
        co_await c.query(
            "INSERT INTO chain_rent_payments (property_id, period, amount_minor, requested_by, "
            "deposit_tx_id) VALUES ($1::uuid, $2, $3::bigint, $4::uuid, $5::uuid)",
            id, body.period, body.amount, req.identity->user_id, deposit_id);
        co_await rt::audit(c, req.identity->user_id, "property.rent_deposit", "property", id,
                           std::string(req.header("X-Request-Id")));
    });
    tx_->wake();
    co_return rt::jsonResponse(202, render(id, body.period, body.amount, deposit_id, "signed"));
}

}  // namespace restinu::blockchain
