#include "portfolio.hpp"

#include <boost/json.hpp>

#include "abi.hpp"
#include "indexer_store.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "rpc.hpp"
#include "tx_manager.hpp"
#include "wallet_store.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
namespace cp = contracts::problems;
using eth::U256;
using eth::abi::Value;

// A claim costs ~60k gas (the registry's check, the transfer of the rupee stand-in).
constexpr std::int64_t kClaimGas = 150'000;
// Holdings claimed by one request (a wallet holding more asks again).
constexpr std::size_t kMaxClaims = 20;

// An amount of paise as JSON: a number while it fits in 64 bits (always, for real holdings).
// (Not braced returns: a braced json::value is an array.)
// NOLINTBEGIN(modernize-return-braced-init-list)
json::value amount(const U256& v) {
    if (v <= U256(std::numeric_limits<std::int64_t>::max())) {
        return json::value(static_cast<std::int64_t>(v));
    }
    return json::value(eth::decimal(v));
}
// NOLINTEND(modernize-return-braced-init-list)

json::object money(const U256& v) {
    return json::object{{"amount", amount(v)}, {"currency", "INR"}};
}

rt::Task<U256> callUint(eth::RpcClient& rpc, eth::Address contract, std::string signature,
                        eth::Address holder) {
    const auto call = eth::abi::encodeCall(signature, {Value::address(holder)});
    auto data = co_await rpc.callContract(contract, call, "latest");
    co_return eth::abi::decode({"uint256"}, data)[0].asUint();
}

}  // namespace

rt::Task<std::vector<ShareHolding>> shareHoldings(rt::PgPool& pool, eth::RpcClient& rpc,
                                                  std::string wallet) {
    std::vector<ShareHolding> out;
    const auto holder = *eth::Address::parse(wallet);
    auto holdings = co_await IndexerStore::holdings(pool, wallet);
    for (const auto& h : holdings) {
        auto t = co_await pool.query(
            "SELECT property_id::text, symbol, price_minor FROM chain_tokenizations "
            "WHERE shares_address = $1",
            h.contract);
        if (t.rows() == 0) {
            continue;  // not one of our tokenizations
        }
        ShareHolding s;
        s.property_id = std::string(t.get(0, 0));
        s.symbol = std::string(t.get(0, 1));
        s.contract = *eth::Address::parse(h.contract);
        s.shares = h.balance;
        s.price_minor = static_cast<std::uint64_t>(t.getInt(0, 2));
        s.claimable = co_await callUint(rpc, s.contract, "withdrawableRentOf(address)", holder);
        s.claimed = co_await IndexerStore::rentClaimed(pool, wallet, h.contract);
        out.push_back(std::move(s));
    }
    co_return out;
}

rt::Task<rt::Response> Portfolio::mine(rt::Request& req) {
    const std::string user = req.identity->user_id;
    auto wallet = co_await WalletStore::find(pool_, user);
    json::object out;
    json::array items;
    U256 total_value = 0;
    U256 total_rent = 0;
    if (wallet) {
        out["wallet"] = json::object{
            {"address",
             eth::Address::parse(wallet->address).value_or(eth::Address()).checksummed()},
            {"kind", wallet->kind}};
        auto holdings = co_await shareHoldings(pool_, rpc_, wallet->address);
        for (const auto& h : holdings) {
            const U256 value = h.shares * h.price_minor;
            total_value += value;
            total_rent += h.claimable;
            items.push_back(json::object{{"property_id", h.property_id},
                                         {"shares_contract", h.contract.checksummed()},
                                         {"symbol", h.symbol},
                                         {"shares", amount(h.shares)},
                                         {"price_per_share", money(h.price_minor)},
                                         {"value", money(value)},
                                         {"claimable_rent", money(h.claimable)},
                                         {"claimed_rent", money(h.claimed)}});
        }
    } else {
        out["wallet"] = nullptr;
    }
    out["holdings"] = std::move(items);
    out["total_value"] = money(total_value);
    out["total_claimable_rent"] = money(total_rent);
    co_return rt::jsonResponse(200, out);
}

rt::Task<rt::Response> Portfolio::claim(rt::Request& req) {
    std::string only;
    if (!req.body.empty()) {
        const auto body = rt::parseJsonObject(req);
        std::vector<rt::FieldError> errors;
        for (const auto& [k, v] : body) {
            if (k != "property_id") {
                errors.push_back({std::string(k), "is not a field of a claim"});
            } else if (!v.is_string() || !rt::isUuid(v.as_string())) {
                errors.push_back({"property_id", "must be a listing's id"});
            } else {
                only = std::string(v.as_string());
            }
        }
        if (!errors.empty()) {
            throw rt::ApiError(rt::problems::kValidation, "the claim has invalid fields", errors);
        }
    }
    if (tx_ == nullptr) {
        throw rt::ApiError(rt::problems::kUnavailable,
                           "no chain operator key is configured (chain.operator_key)");
    }
    auto wallet = co_await WalletStore::find(pool_, req.identity->user_id);
    if (!wallet) {
        throw rt::ApiError(cp::kWalletRequired, "a wallet holds shares and receives their rent");
    }
    const auto holder = *eth::Address::parse(wallet->address);
    auto holdings = co_await shareHoldings(pool_, rpc_, wallet->address);
    std::vector<std::pair<ShareHolding, TxIntent>> claims;
    for (auto& h : holdings) {
        if (h.claimable == 0 || (!only.empty() && h.property_id != only) ||
            claims.size() == kMaxClaims) {
            continue;
        }
        // Keyed by the rent earned so far: asking twice before the next deposit is one claim.
        const auto earned =
            co_await callUint(rpc_, h.contract, "accumulativeRentOf(address)", holder);
        TxIntent intent;
        intent.purpose = "rent.claim";
        intent.reference = h.contract.lower() + ":" + wallet->address + ":" + eth::decimal(earned);
        intent.to = h.contract;
        intent.gas_limit = kClaimGas;
        intent.data = eth::abi::encodeCall("claimRentFor(address)", {Value::address(holder)});
        claims.emplace_back(std::move(h), std::move(intent));
    }
    if (claims.empty()) {
        throw rt::ApiError(cp::kNothingToClaim, only.empty() ? "no holding has rent to claim"
                                                             : "no rent to claim on this listing");
    }
    const auto fees = co_await tx_->fees();
    json::array items;
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        for (auto& [h, intent] : claims) {
            auto sent = co_await tx_->enqueue(tx, intent, fees);
            items.push_back(json::object{{"property_id", h.property_id},
                                         {"shares_contract", h.contract.checksummed()},
                                         {"amount", money(h.claimable)},
                                         {"tx_id", sent.id},
                                         {"state", sent.state}});
        }
        co_await rt::audit(tx, req.identity->user_id, "rent.claim", "wallet", wallet->address,
                           std::string(req.header("X-Request-Id")));
    });
    tx_->wake();
    co_return rt::jsonResponse(202, json::object{{"claims", std::move(items)}});
}

}  // namespace restinu::blockchain
