#include "deeds.hpp"

#include <boost/json.hpp>

#include "abi.hpp"
#include "platform.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "rpc.hpp"
#include "tokenize_store.hpp"
#include "tx_manager.hpp"
#include "wallet_store.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
namespace problems = rt::problems;
using eth::abi::Value;

// registrarTransfer costs ~40k gas; fixed, as an estimate would revert until the mint is in.
constexpr std::int64_t kDeedGas = 120'000;
// Named: g++ 12 miscompiles a string literal passed in a co_return expression.
constexpr std::string_view kConfirmed = "confirmed";
constexpr std::string_view kPending = "pending";
constexpr std::string_view kNotTokenized = "not_tokenized";
constexpr std::string_view kNone = "none";
constexpr std::string_view kTransfer = "the deed's transfer";
constexpr std::string_view kReturn = "the deed's return";

rt::Response stateIs(int status, std::string_view state) {
    return rt::jsonResponse(status, json::object{{"state", state}});
}

// Where the step's transaction stands: 200 confirmed, 202 pending, 409 reverted.
rt::Response settled(const StoredTx& t, std::string_view what) {
    if (t.state == "confirmed") {
        return stateIs(200, kConfirmed);
    }
    if (t.state == "failed") {
        throw rt::ApiError(problems::kConflict, std::string(what) + " reverted on chain");
    }
    return stateIs(202, kPending);
}

}  // namespace

rt::Task<rt::Response> DeedTransfers::transfer(rt::Request& req) {
    const std::string property_id(req.param("id"));
    const auto body = rt::parseJsonObject(req);
    const auto* purchase = body.if_contains("purchase_id");
    const auto* buyer = body.if_contains("buyer_id");
    const auto* direction = body.if_contains("direction");
    if (!rt::isUuid(property_id) || purchase == nullptr || !purchase->is_string() ||
        !rt::isUuid(purchase->as_string()) || buyer == nullptr || !buyer->is_string() ||
        !rt::isUuid(buyer->as_string()) || direction == nullptr || !direction->is_string() ||
        (direction->as_string() != "forward" && direction->as_string() != "back")) {
        throw rt::ApiError(problems::kValidation,
                           "expected a listing id, {purchase_id, buyer_id, direction}");
    }
    if (tx_ == nullptr) {
        throw rt::ApiError(problems::kUnavailable,
                           "no chain operator key is configured (chain.operator_key)");
    }
    if (direction->as_string() == "forward") {
        co_return co_await forward(property_id, std::string(purchase->as_string()),
                                   std::string(buyer->as_string()));
    }
    co_return co_await back(std::string(purchase->as_string()));
}

rt::Task<rt::Response> DeedTransfers::forward(std::string property_id, std::string purchase_id,
                                              std::string buyer_id) {
    auto conn = co_await pool_.acquire();
    auto t = co_await TokenizeStore::find(conn, property_id);
    auto earlier = co_await TxStore::byReference(conn, "deed.transfer", purchase_id);
    conn.release();
    if (earlier) {
        co_return settled(*earlier, kTransfer);
    }
    if (!t || t->state == "failed") {
        co_return stateIs(200, kNotTokenized);
    }
    if (t->state != "listed") {
        throw rt::ApiError(problems::kConflict,
                           "the listing's tokenization is still under way: its deed cannot move");
    }
    auto wallet = co_await WalletStore::find(pool_, buyer_id);
    if (!wallet) {
        throw rt::ApiError(contracts::problems::kWalletRequired,
                           "the buyer of a tokenized property needs a wallet for its deed");
    }
    auto platform = co_await loadPlatform(pool_);
    if (!platform) {
        throw rt::ApiError(problems::kUnavailable, "the platform's contracts are not deployed");
    }
    const auto token = eth::abi::Value::uint(eth::parseDecimal(t->token_id).value_or(0));
    const auto owner_call = eth::abi::encodeCall("ownerOf(uint256)", {token});
    auto owner_data = co_await rpc_.callContract(platform->deed, owner_call, "latest");
    const auto holder = eth::abi::decode({"address"}, owner_data)[0].asAddress();
    const auto buyer = *eth::Address::parse(wallet->address);
    if (holder == buyer) {
        co_return stateIs(200, kConfirmed);  // the buyer holds it already
    }
    TxIntent intent;
    intent.purpose = "deed.transfer";
    intent.reference = purchase_id;
    intent.to = platform->deed;
    intent.gas_limit = kDeedGas;
    intent.data = eth::abi::encodeCall("registrarTransfer(address,address,uint256)",
                                       {Value::address(holder), Value::address(buyer), token});
    const auto fees = co_await tx_->fees();
    std::optional<StoredTx> sent;
    co_await pool_.transaction(
        [&](rt::PgConn& c) -> rt::Task<void> { sent = co_await tx_->enqueue(c, intent, fees); });
    tx_->wake();
    co_return settled(*sent, kTransfer);
}

rt::Task<rt::Response> DeedTransfers::back(std::string purchase_id) {
    auto conn = co_await pool_.acquire();
    auto went = co_await TxStore::byReference(conn, "deed.transfer", purchase_id);
    auto returned = co_await TxStore::byReference(conn, "deed.return", purchase_id);
    conn.release();
    if (returned) {
        co_return settled(*returned, kReturn);
    }
    if (!went || went->state == "failed") {
        co_return stateIs(200, kNone);  // it never moved
    }
    if (went->state != "confirmed") {
        co_return stateIs(202, kPending);  // undo it once it settled
    }
    // registrarTransfer(from, to, id) moved it: send it back from `to` to `from`.
    auto args = eth::abi::decode({"address", "address", "uint256"}, went->data.substr(4));
    TxIntent intent;
    intent.purpose = "deed.return";
    intent.reference = purchase_id;
    intent.to = went->to;
    intent.gas_limit = kDeedGas;
    intent.data = eth::abi::encodeCall(
        "registrarTransfer(address,address,uint256)",
        {Value::address(args[1].asAddress()), Value::address(args[0].asAddress()), args[2]});
    const auto fees = co_await tx_->fees();
    std::optional<StoredTx> sent;
    co_await pool_.transaction(
        [&](rt::PgConn& c) -> rt::Task<void> { sent = co_await tx_->enqueue(c, intent, fees); });
    tx_->wake();
    co_return settled(*sent, kReturn);
}

}  // namespace restinu::blockchain
