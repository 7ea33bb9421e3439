#include "portfolio.hpp"

#include <boost/json.hpp>

#include "abi.hpp"
#include "indexer_store.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "rpc.hpp"
#include "wallet_store.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
using eth::U256;

// An amount of paise as JSON: a number while it fits in 64 bits (always, for real holdings).
json::value amount(const U256& v) {
    if (v <= U256(std::numeric_limits<std::int64_t>::max())) {
        return json::value(static_cast<std::int64_t>(v));
    }
    return json::value(eth::decimal(v));
}

json::object money(const U256& v) {
    return json::object{{"amount", amount(v)}, {"currency", "INR"}};
}

}  // namespace

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
        auto holdings = co_await IndexerStore::holdings(pool_, wallet->address);
        for (const auto& h : holdings) {
            auto t = co_await pool_.query(
                "SELECT property_id::text, symbol, price_minor FROM chain_tokenizations "
                "WHERE shares_address = $1",
                h.contract);
            if (t.rows() == 0) {
                continue;  // not one of our tokenizations
            }
            const U256 price = static_cast<std::uint64_t>(t.getInt(0, 2));
            const auto contract = *eth::Address::parse(h.contract);
            const auto call = eth::abi::encodeCall(
                "withdrawableRentOf(address)",
                {eth::abi::Value::address(*eth::Address::parse(wallet->address))});
            auto rent_data = co_await rpc_.callContract(contract, call, "latest");
            const U256 rent = eth::abi::decode({"uint256"}, rent_data)[0].asUint();
            const U256 value = h.balance * price;
            total_value += value;
            total_rent += rent;
            items.push_back(json::object{{"property_id", std::string(t.get(0, 0))},
                                         {"shares_contract", contract.checksummed()},
                                         {"symbol", std::string(t.get(0, 1))},
                                         {"shares", amount(h.balance)},
                                         {"price_per_share", money(price)},
                                         {"value", money(value)},
                                         {"claimable_rent", money(rent)}});
        }
    } else {
        out["wallet"] = nullptr;
    }
    out["holdings"] = std::move(items);
    out["total_value"] = money(total_value);
    out["total_claimable_rent"] = money(total_rent);
    co_return rt::jsonResponse(200, out);
}

}  // namespace restinu::blockchain
