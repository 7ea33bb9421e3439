#include "platform.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "abi.hpp"
#include "artifacts.hpp"
#include "indexer_store.hpp"
#include "restinu/rt/pg.hpp"
#include "settings.hpp"
#include "tx_manager.hpp"

namespace restinu::blockchain {

namespace net = boost::asio;
using eth::abi::Value;

rt::Task<std::optional<Platform>> loadPlatform(rt::PgPool& pool) {
    auto r = co_await pool.query("SELECT name, address FROM chain_platform WHERE $1 = $1", "x");
    std::map<std::string, eth::Address> by_name;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        if (auto a = eth::Address::parse(r.get(i, 1))) {
            by_name[std::string(r.get(i, 0))] = *a;
        }
    }
    if (by_name.size() != 4) {
        co_return std::nullopt;
    }
    co_return Platform{by_name["timelock"], by_name["registry"], by_name["payment_token"],
                       by_name["deed"]};
}

rt::Task<std::string> awaitConfirmed(rt::PgPool& pool, TxManager& tx, std::string id) {
    auto ex = co_await net::this_coro::executor;
    net::steady_timer timer(ex);
    for (;;) {
        co_await tx.runOnce();
        auto t = co_await TxStore::byId(pool, id);
        if (!t) {
            throw std::logic_error("no chain transaction " + id);
        }
        if (t->state == "confirmed") {
            co_return t->contract_address;
        }
        if (t->state == "failed") {
            throw std::runtime_error("the transaction " + eth::hex(t->mined_hash) + " (" +
                                     t->purpose + " " + t->reference + ") reverted");
        }
        timer.expires_after(std::chrono::milliseconds(200));
        co_await timer.async_wait(net::use_awaitable);
    }
}

namespace {

// Sends one transaction for (purpose, reference) unless it was sent before; waits for it.
rt::Task<std::string> once(rt::PgPool& pool, TxManager& tx, TxIntent intent) {
    {
        // Sent before: wait for that one (estimating it again could revert: it took effect).
        auto conn = co_await pool.acquire();
        auto sent = co_await TxStore::byReference(conn, intent.purpose, intent.reference);
        conn.release();
        if (sent) {
            co_return co_await awaitConfirmed(pool, tx, sent->id);
        }
    }
    auto prepared = co_await tx.prepare(std::move(intent));
    auto fees = co_await tx.fees();
    std::string id;
    co_await pool.transaction([&](rt::PgConn& c) -> rt::Task<void> {
        auto t = co_await tx.enqueue(c, prepared, fees);
        id = t.id;
    });
    co_return co_await awaitConfirmed(pool, tx, id);
}

rt::Task<eth::Address> deployOne(rt::PgPool& pool, TxManager& tx, std::string name,
                                 std::string data,
                                 std::function<void(const std::string&)>& progress) {
    auto r = co_await pool.query("SELECT address FROM chain_platform WHERE name = $1", name);
    if (r.rows() == 1) {
        progress(name + ": already at " + std::string(r.get(0, 0)));
        co_return *eth::Address::parse(r.get(0, 0));
    }
    TxIntent intent;
    intent.purpose = "platform.deploy";
    intent.reference = name;
    intent.data = std::move(data);
    progress(name + ": deploying");
    const auto address_text = co_await once(pool, tx, std::move(intent));
    auto address = eth::Address::parse(address_text);
    if (!address) {
        throw std::runtime_error(name + ": the receipt names no contract");
    }
    co_await pool.transaction([&](rt::PgConn& c) -> rt::Task<void> {
        auto block = co_await c.query(
            "INSERT INTO chain_platform (name, address, tx_id) SELECT $1, $2, id FROM "
            "chain_transactions WHERE purpose = 'platform.deploy' AND reference = $1 "
            "RETURNING (SELECT mined_block FROM chain_transactions WHERE purpose = "
            "'platform.deploy' AND reference = $1)",
            name, address->lower());
        // The indexer follows the deeds and the identity registry from their first block.
        if (name == "deed" || name == "registry") {
            co_await IndexerStore::watch(
                c, address->lower(), name == "deed" ? ContractKind::Deed : ContractKind::Registry,
                std::nullopt, block.getInt(0, 0));
        }
    });
    progress(name + ": " + address->checksummed());
    co_return *address;
}

}  // namespace

rt::Task<Platform> deployPlatform(rt::PgPool& pool, TxManager& tx, const ChainSettings& settings,
                                  std::function<void(const std::string&)> progress) {
    if (!settings.governance) {
        throw std::invalid_argument(
            "chain.governance_address is required: it schedules and executes the timelock's "
            "delayed admin calls");
    }
    const auto op = tx.address();
    const auto gov = *settings.governance;
    // Each contract's creation data named first (no braced lists inside co_await: g++ 12).
    const auto timelock_code = artifacts::creation(
        "PlatformTimelock", {"uint256", "address[]", "address[]", "address"},
        {Value::uint(settings.timelock_delay.count()), Value::array({Value::address(gov)}),
         Value::array({Value::address(gov)}), Value::address({})});
    Platform p;
    p.timelock = co_await deployOne(pool, tx, "timelock", timelock_code, progress);
    const auto registry_code =
        artifacts::creation("IdentityRegistry", {"address", "address"},
                            {Value::address(p.timelock), Value::address(op)});
    p.registry = co_await deployOne(pool, tx, "registry", registry_code, progress);
    const auto token_code =
        artifacts::creation("PaymentToken", {"string", "string", "address", "address"},
                            {Value::bytes("REST-iN-U Rupee"), Value::bytes("rINR"),
                             Value::address(p.timelock), Value::address(op)});
    p.payment_token = co_await deployOne(pool, tx, "payment_token", token_code, progress);
    const auto deed_code =
        artifacts::creation("PropertyDeed", {"string", "string", "address", "address"},
                            {Value::bytes("REST-iN-U Property Deed"), Value::bytes("DEED"),
                             Value::address(p.timelock), Value::address(op)});
    p.deed = co_await deployOne(pool, tx, "deed", deed_code, progress);
    TxIntent reg;
    reg.purpose = "registry.register";
    reg.reference = op.lower();
    reg.to = p.registry;
    reg.data = eth::abi::encodeCall("registerIdentity(address)", {Value::address(op)});
    co_await once(pool, tx, std::move(reg));
    progress("treasury " + op.checksummed() + " registered in the identity registry");
    co_return p;
}

}  // namespace restinu::blockchain
