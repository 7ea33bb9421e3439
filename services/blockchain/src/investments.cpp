#include "investments.hpp"

#include <boost/json.hpp>
#include <random>

#include "abi.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/service_client.hpp"
#include "tokenize_store.hpp"
#include "tx_manager.hpp"
#include "views.hpp"
#include "wallet_store.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
namespace problems = rt::problems;
namespace cp = contracts::problems;
using eth::abi::Value;
using Reply = rt::ServiceClient::Reply;

// An ERC-20 transfer with the registry's checks and the rent corrections costs ~90k gas. A fixed
// limit: an estimate would revert for a wallet the registry refuses, and the saga needs that
// transaction mined (and reverted) to know to release the hold.
constexpr std::int64_t kTransferGas = 200'000;
constexpr std::int64_t kMaxShares = 1'000'000'000;
constexpr int kPageSize = 50;
constexpr int kBatch = 16;

struct Body {
    std::string property_id;
    std::int64_t shares = 0;
    std::string payment_method;
};

// {"property_id", "shares", "payment_method"}; nothing else.
Body parse(const json::object& o) {
    std::vector<rt::FieldError> errors;
    Body b;
    const auto* id = o.if_contains("property_id");
    if (id == nullptr || !id->is_string() || !rt::isUuid(id->as_string())) {
        errors.push_back({"property_id", "must be a tokenized listing's id"});
    } else {
        b.property_id = std::string(id->as_string());
    }
    const auto* shares = o.if_contains("shares");
    if (shares == nullptr || !shares->is_int64() || shares->as_int64() < 1 ||
        shares->as_int64() > kMaxShares) {
        errors.push_back({"shares", "must be a whole number from 1 to 1000000000"});
    } else {
        b.shares = shares->as_int64();
    }
    const auto* method = o.if_contains("payment_method");
    if (method == nullptr || !method->is_string() || !method->as_string().starts_with("pm_") ||
        method->as_string().size() > 64) {
        errors.push_back({"payment_method", "must be the provider's payment method id (pm_...)"});
    } else {
        b.payment_method = std::string(method->as_string());
    }
    for (const auto& [k, v] : o) {
        if (k != "property_id" && k != "shares" && k != "payment_method") {
            errors.push_back({std::string(k), "is not a field of an investment"});
        }
    }
    if (!errors.empty()) {
        throw rt::ApiError(problems::kValidation, "the investment has invalid fields", errors);
    }
    return b;
}

json::value orNull(const std::string& s) {
    return s.empty() ? json::value(nullptr) : json::value(s);
}

json::object render(const Investment& i) {
    json::object o{
        {"id", i.id},
        {"property_id", i.property_id},
        {"investor_id", i.investor_id},
        {"shares", i.shares},
        {"price_per_share", json::object{{"amount", i.price_minor}, {"currency", i.currency}}},
        {"amount", json::object{{"amount", i.amount_minor}, {"currency", i.currency}}},
        {"wallet", eth::Address::parse(i.wallet).value_or(eth::Address()).checksummed()},
        {"state", i.state},
        {"transfer_tx", orNull(i.tx_hash)},
        {"failure", orNull(i.failure)},
        {"created_at", i.created_at},
        {"updated_at", i.updated_at},
        {"finished_at", orNull(i.finished_at)}};
    return o;
}

std::string keyOf(const Investment& i, std::string_view step) {
    return "investment:" + i.id + ":" + std::string(step);
}

json::object money(const Investment& i) {
    return json::object{{"amount", i.amount_minor}, {"currency", i.currency}};
}

}  // namespace

rt::Task<rt::Response> Investments::create(rt::Request& req) {
    const auto body = parse(rt::parseJsonObject(req));
    const std::string key(req.header("Idempotency-Key"));
    if (key.empty() || key.size() > 255) {
        throw rt::ApiError(problems::kIdempotencyKeyRequired,
                           "buying shares needs an Idempotency-Key header (1 to 255 characters)");
    }
    const auto& user = req.identity->user_id;
    const auto fingerprint = rt::sha256Hex(body.property_id + "|" + std::to_string(body.shares) +
                                           "|" + body.payment_method);
    auto conn = co_await pool_.acquire();
    auto earlier = co_await InvestmentStore::findByKey(conn, user, key);
    if (earlier) {
        if (earlier->request_sha256 != fingerprint) {
            throw rt::ApiError(problems::kIdempotencyKeyReused,
                               "this Idempotency-Key bought other shares");
        }
        co_return rt::jsonResponse(200, render(*earlier));
    }
    if (tx_ == nullptr) {
        throw rt::ApiError(problems::kUnavailable,
                           "no chain operator key is configured (chain.operator_key)");
    }
    const bool approved = co_await kycApproved(conn, user);
    if (!approved) {
        throw rt::ApiError(cp::kKycRequired, "buying shares needs approved KYC");
    }
    auto tokenized = co_await TokenizeStore::find(conn, body.property_id);
    auto listing = co_await findListing(conn, body.property_id);
    conn.release();
    if (!tokenized || tokenized->state != "listed" || !listing) {
        throw rt::ApiError(cp::kSharesUnavailable, "the listing is not listed for shares");
    }
    auto wallet = co_await WalletStore::find(pool_, user);
    if (!wallet) {
        throw rt::ApiError(cp::kWalletRequired,
                           "link a wallet or get a custodial one before buying shares");
    }
    std::int64_t amount = 0;
    if (__builtin_mul_overflow(body.shares, tokenized->price_minor, &amount)) {
        throw rt::ApiError(cp::kSharesUnavailable, "the price of that many shares is too large");
    }
    Investment inv;
    inv.id = rt::newUuidV7();
    inv.investor_id = user;
    inv.property_id = body.property_id;
    inv.idempotency_key = key;
    inv.request_sha256 = fingerprint;
    inv.shares = body.shares;
    inv.price_minor = tokenized->price_minor;
    inv.amount_minor = amount;
    inv.currency = tokenized->currency;
    inv.payment_method = body.payment_method;
    inv.payee_id = listing->owner_id;
    inv.wallet = wallet->address;
    std::int64_t left = 0;
    const bool inserted = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
        left =
            co_await InvestmentStore::lockAvailable(tx, inv.property_id, tokenized->total_shares);
        if (left < inv.shares) {
            co_return false;
        }
        const bool fresh = co_await InvestmentStore::insert(tx, inv);
        if (fresh) {
            co_await rt::audit(tx, user, "investment.create", "investment", inv.id,
                               std::string(req.header("X-Request-Id")));
        }
        co_return true;
    });
    if (!inserted) {
        throw rt::ApiError(cp::kSharesUnavailable,
                           std::to_string(left) + " shares are left for sale");
    }
    auto again = co_await pool_.acquire();
    auto stored = co_await InvestmentStore::findByKey(again, user, key);
    again.release();
    if (!stored || stored->request_sha256 != fingerprint) {
        throw rt::ApiError(problems::kIdempotencyKeyReused,
                           "this Idempotency-Key bought other shares");
    }
    if (wake_) {
        wake_();
    }
    auto res = rt::jsonResponse(stored->id == inv.id ? 202 : 200, render(*stored));
    res.header("Location", "/api/v1/investments/" + stored->id);
    co_return res;
}

rt::Task<rt::Response> Investments::show(rt::Request& req) {
    const std::string id(req.param("id"));
    if (!rt::isUuid(id)) {
        throw rt::ApiError(problems::kNotFound, "no such investment");
    }
    auto conn = co_await pool_.acquire();
    auto inv = co_await InvestmentStore::find(conn, id);
    conn.release();
    // Another investor's purchase is not found, not forbidden: its existence is not told.
    if (!inv || (inv->investor_id != req.identity->user_id && !req.identity->hasRole("admin"))) {
        throw rt::ApiError(problems::kNotFound, "no such investment");
    }
    co_return rt::jsonResponse(200, render(*inv));
}

rt::Task<rt::Response> Investments::list(rt::Request& req) {
    auto conn = co_await pool_.acquire();
    auto rows = co_await InvestmentStore::mine(conn, req.identity->user_id, kPageSize);
    conn.release();
    json::array items;
    for (const auto& i : rows) {
        items.push_back(render(i));
    }
    co_return rt::jsonResponse(200, json::object{{"items", std::move(items)}});
}

std::chrono::milliseconds Investments::backoff(int attempts) const {
    const auto cap = std::min<std::int64_t>(
        settings_.backoff_max.count(), settings_.backoff_base.count() << std::min(attempts, 16));
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> pick(cap / 2, std::max<std::int64_t>(cap, 1));
    return std::chrono::milliseconds(pick(rng));
}

rt::Task<std::size_t> Investments::runOnce() {
    auto due = co_await InvestmentStore::claimDue(pool_, kBatch, settings_.lease);
    std::size_t moved = 0;
    for (auto& i : due) {
        try {
            const bool ok = co_await step(std::move(i));
            moved += ok ? 1 : 0;
        } catch (const std::exception& e) {
            // The lease ends by itself and the step runs again: every step is keyed.
            rt::log::error("blockchain", "investment step failed", {{"error", e.what()}});
        }
    }
    co_return moved;
}

rt::Task<bool> Investments::step(Investment i) {
    if (i.state == "authorising") {
        co_return co_await authorise(i);
    }
    if (i.state == "capturing") {
        co_return co_await capture(i);
    }
    co_return co_await release(i);
}

rt::Task<bool> Investments::authorise(const Investment& i) {
    if (tx_ == nullptr) {
        co_return false;
    }
    json::object hold{{"key", keyOf(i, "authorise")},
                      {"payer_id", i.investor_id},
                      {"payee_id", i.payee_id},
                      {"amount", money(i)},
                      {"payment_method", i.payment_method}};
    auto reply = co_await payments_.post("/internal/v1/holds", json::serialize(hold));
    if (reply.kind == Reply::Kind::Refused) {
        co_return co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await InvestmentStore::finish(
                tx, i, "authorising", false, "the payment was not authorised: " + reply.detail);
        });
    }
    if (reply.kind == Reply::Kind::Unavailable) {
        if (i.attempts + 1 < settings_.max_hold_attempts) {
            co_await InvestmentStore::retry(pool_, i.id, i.state, reply.detail,
                                            backoff(i.attempts));
            co_return false;
        }
        // The hold may exist without our knowing: release whatever the key made.
        co_return co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await InvestmentStore::move(
                tx, i.id, "authorising", "voiding", "", "",
                "the payment service did not answer: " + reply.detail);
        });
    }
    std::string intent_id;
    boost::system::error_code ec;
    auto answer = json::parse(reply.body, ec);
    if (!ec && answer.is_object()) {
        if (const auto* intent = answer.as_object().if_contains("intent");
            intent != nullptr && intent->is_object()) {
            if (const auto* id = intent->as_object().if_contains("id");
                id != nullptr && id->is_string()) {
                intent_id = std::string(id->as_string());
            }
        }
    }
    TxIntent transfer;
    transfer.purpose = "shares.sell";
    transfer.reference = i.id;
    transfer.to = eth::Address::parse(i.shares_contract);
    transfer.gas_limit = kTransferGas;
    transfer.data = eth::abi::encodeCall("transfer(address,uint256)",
                                         {Value::address(*eth::Address::parse(i.wallet)),
                                          Value::uint(static_cast<std::uint64_t>(i.shares))});
    const auto fees = co_await tx_->fees();
    const bool moved = co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
        auto sent = co_await tx_->enqueue(tx, transfer, fees);
        co_return co_await InvestmentStore::move(tx, i.id, "authorising", "transferring", intent_id,
                                                 sent.id, "");
    });
    tx_->wake();
    co_return moved;
}

rt::Task<bool> Investments::capture(const Investment& i) {
    json::object body{
        {"hold_key", keyOf(i, "authorise")}, {"key", keyOf(i, "capture")}, {"amount", money(i)}};
    auto reply = co_await payments_.post("/internal/v1/holds/capture", json::serialize(body));
    if (reply.kind == Reply::Kind::Ok) {
        co_return co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await InvestmentStore::finish(tx, i, "capturing", true, "");
        });
    }
    // The shares are delivered: the capture is retried until it is taken, and a refusal is
    // loud (an operator settles it: docs/blockchain.md, "Buying shares").
    if (reply.kind == Reply::Kind::Refused) {
        rt::log::error("blockchain", "the capture of a delivered share purchase was refused",
                       {{"investment", i.id}, {"detail", reply.detail}});
    }
    co_await InvestmentStore::retry(pool_, i.id, i.state, reply.detail, backoff(i.attempts));
    co_return false;
}

rt::Task<bool> Investments::release(const Investment& i) {
    json::object body{{"hold_key", keyOf(i, "authorise")}, {"key", keyOf(i, "void")}};
    auto reply = co_await payments_.post("/internal/v1/holds/void", json::serialize(body));
    if (reply.kind == Reply::Kind::Ok) {
        co_return co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
            co_return co_await InvestmentStore::finish(tx, i, "voiding", false, "");
        });
    }
    co_await InvestmentStore::retry(pool_, i.id, i.state, reply.detail, backoff(i.attempts));
    co_return false;
}

rt::Task<void> Investments::applyChainTx(rt::PgConn& tx, const rt::Event& event) {
    if (event.type != contracts::ChainTxChanged::kConfirmed &&
        event.type != contracts::ChainTxChanged::kFailed) {
        co_return;
    }
    const auto c = contracts::ChainTxChanged::parse(event.data);
    if (c.purpose != "shares.sell") {
        co_return;
    }
    if (event.type == contracts::ChainTxChanged::kConfirmed) {
        co_await InvestmentStore::move(tx, c.reference, "transferring", "capturing", "", "", "");
        co_return;
    }
    co_await InvestmentStore::move(
        tx, c.reference, "transferring", "voiding", "", "",
        "the share transfer reverted in " + c.hash + " (is the wallet in the identity registry?)");
}

}  // namespace restinu::blockchain
