#include "identity_sync.hpp"

#include "abi.hpp"
#include "platform.hpp"
#include "restinu/rt/pg.hpp"
#include "tx_manager.hpp"

namespace restinu::blockchain {

namespace {
// A registry call costs ~50k gas; a fixed limit spares an estimate (which would revert for a
// wallet already in the state asked, and that transaction then fails harmlessly).
constexpr std::int64_t kRegistryGas = 120'000;
constexpr int kBatch = 20;
}  // namespace

rt::Task<std::size_t> IdentitySync::runOnce() {
    auto platform = co_await loadPlatform(pool_);
    if (!platform) {
        co_return 0;
    }
    // Approved and not registered, or rejected and registered.
    auto due = co_await pool_.query(
        "SELECT w.address, w.user_id::text, k.status = 'approved', "
        "(extract(epoch FROM k.decided_at) * 1000000)::bigint FROM wallets w "
        "JOIN chain_kyc_view k ON k.user_id = w.user_id "
        "LEFT JOIN chain_identities i ON i.address = w.address "
        "WHERE (k.status = 'approved' AND i.registered IS NOT TRUE) "
        "OR (k.status = 'rejected' AND i.registered) LIMIT $1::int",
        kBatch);
    if (due.rows() == 0) {
        co_return 0;
    }
    const auto fees = co_await tx_.fees();
    for (std::size_t i = 0; i < due.rows(); ++i) {
        const std::string address(due.get(i, 0));
        const std::string user(due.get(i, 1));
        const bool approve = due.get(i, 2) == "t";
        TxIntent intent;
        intent.purpose = approve ? "registry.register" : "registry.delete";
        intent.reference = address + "@" + std::string(due.get(i, 3));
        intent.to = platform->registry;
        intent.gas_limit = kRegistryGas;
        intent.data =
            eth::abi::encodeCall(approve ? "registerIdentity(address)" : "deleteIdentity(address)",
                                 {eth::abi::Value::address(*eth::Address::parse(address))});
        co_await pool_.transaction([&](rt::PgConn& c) -> rt::Task<void> {
            auto t = co_await tx_.enqueue(c, intent, fees);
            co_await c.query(
                "INSERT INTO chain_identities (address, user_id, registered, tx_id) VALUES ($1, "
                "$2::uuid, $3::boolean, $4::uuid) ON CONFLICT (address) DO UPDATE SET "
                "registered = EXCLUDED.registered, tx_id = EXCLUDED.tx_id, updated_at = now()",
                address, user, approve, t.id);
        });
    }
    tx_.wake();
    co_return due.rows();
}

}  // namespace restinu::blockchain
