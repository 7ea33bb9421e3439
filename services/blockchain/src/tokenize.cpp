#include "tokenize.hpp"

#include <boost/json.hpp>

#include "abi.hpp"
#include "artifacts.hpp"
#include "indexer_store.hpp"
#include "metadata.hpp"
#include "platform.hpp"
#include "restinu/contracts/events.hpp"
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

constexpr std::int64_t kMaxShares = 1'000'000'000;

struct Request {
    std::int64_t total_shares = 0;
    std::int64_t price_minor = 0;
    std::string symbol;
};

// The body: {"total_shares", "price_per_share": {"amount", "currency": "INR"}, "symbol"?}.
Request parse(const json::object& body, const std::string& property_id) {
    std::vector<rt::FieldError> errors;
    Request r;
    const auto* shares = body.if_contains("total_shares");
    if (shares == nullptr || !shares->is_int64() || shares->as_int64() < 1 ||
        shares->as_int64() > kMaxShares) {
        errors.push_back({"total_shares", "must be a whole number from 1 to 1000000000"});
    } else {
        r.total_shares = shares->as_int64();
    }
    const auto* price = body.if_contains("price_per_share");
    const auto* amount =
        price != nullptr && price->is_object() ? price->as_object().if_contains("amount") : nullptr;
    const auto* currency = price != nullptr && price->is_object()
                               ? price->as_object().if_contains("currency")
                               : nullptr;
    if (amount == nullptr || !amount->is_int64() || amount->as_int64() < 1) {
        errors.push_back({"price_per_share.amount", "must be a positive whole number of paise"});
    } else {
        r.price_minor = amount->as_int64();
    }
    if (currency == nullptr || !currency->is_string() || currency->as_string() != "INR") {
        errors.push_back({"price_per_share.currency", "must be INR (rent is paid in rINR)"});
    }
    if (const auto* s = body.if_contains("symbol")) {
        const bool ok = s->is_string() && s->as_string().size() >= 3 &&
                        s->as_string().size() <= 11 &&
                        std::all_of(s->as_string().begin(), s->as_string().end(), [](char c) {
                            return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
                        });
        if (!ok) {
            errors.push_back({"symbol", "must be 3 to 11 of A-Z, 0-9 and -"});
        } else {
            r.symbol = std::string(s->as_string());
        }
    }
    if (r.symbol.empty()) {
        r.symbol = "RINU-" + property_id.substr(0, 6);
        std::transform(r.symbol.begin(), r.symbol.end(), r.symbol.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    }
    if (!errors.empty()) {
        throw rt::ApiError(problems::kValidation, "the tokenization has invalid fields", errors);
    }
    return r;
}

// The property's UUID as 16 bytes.
std::string uuidBytes(const std::string& id) {
    std::string hexdigits;
    for (char c : id) {
        if (c != '-') {
            hexdigits += c;
        }
    }
    return eth::unhex(hexdigits).value_or("");
}

json::object render(const Tokenization& t, const std::optional<Platform>& p) {
    json::object o{
        {"property_id", t.property_id},
        {"state", t.state},
        {"total_shares", t.total_shares},
        {"price_per_share", json::object{{"amount", t.price_minor}, {"currency", t.currency}}},
        {"symbol", t.symbol},
        {"metadata_cid", t.metadata_cid},
        {"metadata_uri", "ipfs://" + t.metadata_cid},
        {"deed", json::object{{"contract", p ? p->deed.checksummed() : ""},
                              {"token_id", t.token_id},
                              {"minted", t.deed_minted}}},
        {"created_at", t.created_at}};
    o["shares_contract"] =
        t.shares_address.empty()
            ? json::value(nullptr)
            : json::value(
                  eth::Address::parse(t.shares_address).value_or(eth::Address()).checksummed());
    o["listed_at"] = t.listed_at.empty() ? json::value(nullptr) : json::value(t.listed_at);
    if (!t.failure.empty()) {
        o["failure"] = t.failure;
    }
    return o;
}

}  // namespace

rt::Task<rt::Response> Tokenizer::tokenize(rt::Request& req) {
    const std::string id(req.param("id"));
    if (!rt::isUuid(id)) {
        throw rt::ApiError(problems::kNotFound, "no such listing");
    }
    const auto body = parse(rt::parseJsonObject(req), id);
    if (tx_ == nullptr) {
        throw rt::ApiError(problems::kUnavailable,
                           "no chain operator key is configured (chain.operator_key)");
    }
    auto platform = co_await loadPlatform(pool_);
    if (!platform) {
        throw rt::ApiError(problems::kUnavailable,
                           "the platform's contracts are not deployed (restinu blockchain deploy)");
    }
    auto conn = co_await pool_.acquire();
    auto listing = co_await findListing(conn, id);
    if (!listing) {
        throw rt::ApiError(problems::kNotFound, "no such listing");
    }
    if (listing->status != "active") {
        throw rt::ApiError(problems::kConflict,
                           "only an active listing is tokenized; this one is " + listing->status);
    }
    auto existing = co_await TokenizeStore::find(conn, id);
    conn.release();
    if (existing) {
        throw rt::ApiError(problems::kConflict,
                           "the listing is tokenized already (" + existing->state + ")");
    }

    // The metadata first: content-addressed, so storing it twice is harmless.
    const auto cid = co_await metadata_.put(deedMetadata(*listing, app_url_));
    const auto uuid = uuidBytes(id);
    const auto token_id = eth::fromBigEndian(uuid);
    TxIntent mint;
    mint.purpose = "deed.mint";
    mint.reference = id;
    mint.to = platform->deed;
    mint.data = eth::abi::encodeCall(
        "mint(address,uint256,string)",
        {Value::address(tx_->address()), Value::uint(token_id), Value::bytes(cid)});
    std::string property_id32 = uuid;
    property_id32.resize(32, '\0');
    std::string name = "REST-iN-U " + listing->title.substr(0, 48);
    TxIntent deploy;
    deploy.purpose = "shares.deploy";
    deploy.reference = id;
    deploy.data = artifacts::creation(
        "PropertyShares",
        {"string", "string", "bytes32", "uint256", "uint256", "address", "address", "address",
         "address", "address"},
        {Value::bytes(name), Value::bytes(body.symbol), Value::bytes(property_id32),
         Value::uint(body.total_shares), Value::uint(body.price_minor),
         Value::address(tx_->address()), Value::address(platform->registry),
         Value::address(platform->payment_token), Value::address(platform->timelock),
         Value::address(tx_->address())});
    auto mint_ready = co_await tx_->prepare(std::move(mint));
    auto deploy_ready = co_await tx_->prepare(std::move(deploy));
    const auto fees = co_await tx_->fees();

    Tokenization t;
    t.property_id = id;
    t.requested_by = req.identity->user_id;
    t.total_shares = body.total_shares;
    t.price_minor = body.price_minor;
    t.currency = "INR";
    t.symbol = body.symbol;
    t.metadata_cid = cid;
    t.token_id = eth::decimal(token_id);
    std::optional<Tokenization> stored;
    co_await pool_.transaction([&](rt::PgConn& c) -> rt::Task<void> {
        auto minted = co_await tx_->enqueue(c, mint_ready, fees);
        auto deployed = co_await tx_->enqueue(c, deploy_ready, fees);
        t.deed_tx_id = minted.id;
        t.shares_tx_id = deployed.id;
        co_await TokenizeStore::insert(c, t);
        co_await rt::audit(c, req.identity->user_id, "property.tokenize", "property", id,
                           std::string(req.header("X-Request-Id")));
        stored = co_await TokenizeStore::find(c, id);
    });
    tx_->wake();
    auto res = rt::jsonResponse(202, render(*stored, platform));
    res.header("Location", "/api/v1/properties/" + id + "/tokenize");
    co_return res;
}

rt::Task<rt::Response> Tokenizer::show(rt::Request& req) {
    const std::string id(req.param("id"));
    if (!rt::isUuid(id)) {
        throw rt::ApiError(problems::kNotFound, "no such tokenization");
    }
    auto conn = co_await pool_.acquire();
    auto t = co_await TokenizeStore::find(conn, id);
    conn.release();
    if (!t) {
        throw rt::ApiError(problems::kNotFound, "the listing is not tokenized");
    }
    auto platform = co_await loadPlatform(pool_);
    co_return rt::jsonResponse(200, render(*t, platform));
}

rt::Task<void> Tokenizer::applyChainTx(rt::PgConn& tx, const rt::Event& event) {
    if (event.type != contracts::ChainTxChanged::kConfirmed &&
        event.type != contracts::ChainTxChanged::kFailed) {
        co_return;
    }
    const auto c = contracts::ChainTxChanged::parse(event.data);
    if (c.purpose != "deed.mint" && c.purpose != "shares.deploy") {
        co_return;
    }
    if (event.type == contracts::ChainTxChanged::kFailed) {
        co_await TokenizeStore::fail(tx, c.reference, c.purpose + " reverted in " + c.hash);
        co_return;
    }
    auto listed =
        co_await TokenizeStore::stepConfirmed(tx, c.reference, c.purpose, c.contract_address);
    if (!listed) {
        co_return;
    }
    // The indexer follows the new shares contract from the block that created it (the mint of
    // the whole supply to the treasury included: watch() backfills what it already passed).
    auto block = co_await tx.query("SELECT mined_block FROM chain_transactions WHERE id = $1::uuid",
                                   listed->shares_tx_id);
    co_await IndexerStore::watch(tx, listed->shares_address, ContractKind::Shares,
                                 listed->property_id, block.getInt(0, 0));
    // The listing shows its token data (the property service consumes this).
    auto deed = co_await tx.query("SELECT address FROM chain_platform WHERE name = 'deed'");
    contracts::PropertyTokenized t;
    t.listing_id = listed->property_id;
    t.deed_contract =
        deed.rows() == 1
            ? eth::Address::parse(deed.get(0, 0)).value_or(eth::Address()).checksummed()
            : std::string();
    t.token_id = listed->token_id;
    t.shares_contract =
        eth::Address::parse(listed->shares_address).value_or(eth::Address()).checksummed();
    t.symbol = listed->symbol;
    t.total_shares = listed->total_shares;
    t.price_minor = listed->price_minor;
    t.currency = listed->currency;
    t.metadata_uri = "ipfs://" + listed->metadata_cid;
    auto e = rt::makeEvent(std::string(contracts::PropertyTokenized::kType),
                           std::string(contracts::kTokenizationAggregate), listed->property_id,
                           t.data());
    co_await rt::enqueueEvent(tx, e);
}

}  // namespace restinu::blockchain
