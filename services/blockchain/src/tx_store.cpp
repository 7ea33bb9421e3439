#include "tx_store.hpp"

#include <array>

#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::blockchain {
namespace {

using eth::hex;
using eth::U256;

constexpr std::string_view kColumns =
    "id::text AS id, signer, nonce, purpose, reference, coalesce(to_address, '') AS to_address, "
    "value_wei::text AS value_wei, data, gas_limit, max_fee_wei::text AS max_fee_wei, "
    "priority_fee_wei::text AS priority_fee_wei, raw, hash, array_to_string(hashes, ',') AS "
    "hashes, state, replacements, coalesce(extract(epoch FROM now() - last_sent_at), 0)::float8 "
    "AS since_sent, coalesce(mined_hash, '') AS mined_hash, coalesce(mined_block, 0) AS "
    "mined_block, coalesce(mined_block_hash, '') AS mined_block_hash, coalesce(receipt_status, "
    "0) AS receipt_status, coalesce(contract_address, '') AS contract_address";

std::string bytes(std::string_view h) {
    return eth::unhex(h).value_or("");
}

U256 number(std::string_view text) {
    return eth::parseDecimal(text).value_or(0);
}

std::vector<StoredTx> rows(const rt::PgResult& r) {
    static constexpr std::array<std::string_view, 22> kNames{"id",
                                                             "signer",
                                                             "nonce",
                                                             "purpose",
                                                             "reference",
                                                             "to_address",
                                                             "value_wei",
                                                             "data",
                                                             "gas_limit",
                                                             "max_fee_wei",
                                                             "priority_fee_wei",
                                                             "raw",
                                                             "hash",
                                                             "hashes",
                                                             "state",
                                                             "replacements",
                                                             "since_sent",
                                                             "mined_hash",
                                                             "mined_block",
                                                             "mined_block_hash",
                                                             "receipt_status",
                                                             "contract_address"};
    const auto at = rt::requireColumns(r, kNames);
    std::vector<StoredTx> out;
    out.reserve(r.rows());
    for (std::size_t i = 0; i < r.rows(); ++i) {
        StoredTx t;
        t.id = std::string(r.get(i, at[0]));
        t.signer = std::string(r.get(i, at[1]));
        t.nonce = r.getInt(i, at[2]);
        t.purpose = std::string(r.get(i, at[3]));
        t.reference = std::string(r.get(i, at[4]));
        if (!r.get(i, at[5]).empty()) {
            t.to = eth::Address::parse(r.get(i, at[5]));
        }
        t.value = number(r.get(i, at[6]));
        t.data = bytes(r.get(i, at[7]));
        t.gas_limit = r.getInt(i, at[8]);
        t.max_fee = number(r.get(i, at[9]));
        t.priority_fee = number(r.get(i, at[10]));
        t.raw = bytes(r.get(i, at[11]));
        t.hash = bytes(r.get(i, at[12]));
        std::string_view list = r.get(i, at[13]);
        while (!list.empty()) {
            const auto comma = list.find(',');
            t.hashes.push_back(bytes(list.substr(0, comma)));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
        t.state = std::string(r.get(i, at[14]));
        t.replacements = static_cast<int>(r.getInt(i, at[15]));
        t.seconds_since_sent = std::stod(std::string(r.get(i, at[16])));
        t.mined_hash = bytes(r.get(i, at[17]));
        t.mined_block = r.getInt(i, at[18]);
        t.mined_block_hash = bytes(r.get(i, at[19]));
        t.receipt_status = static_cast<int>(r.getInt(i, at[20]));
        t.contract_address = std::string(r.get(i, at[21]));
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

rt::Task<void> TxStore::ensureSigner(rt::PgPool& pool, eth::Address signer, U256 chain_id,
                                     U256 node_next) {
    co_await pool.query(
        "INSERT INTO chain_signers (address, chain_id, next_nonce) VALUES ($1, $2::bigint, "
        "$3::bigint) ON CONFLICT (address) DO UPDATE SET next_nonce = "
        "greatest(chain_signers.next_nonce, EXCLUDED.next_nonce)",
        signer.lower(), eth::decimal(chain_id), eth::decimal(node_next));
}

rt::Task<std::int64_t> TxStore::takeNonce(rt::PgConn& tx, eth::Address signer) {
    auto r = co_await tx.query(
        "UPDATE chain_signers SET next_nonce = next_nonce + 1 WHERE address = $1 "
        "RETURNING next_nonce - 1",
        signer.lower());
    if (r.rows() != 1) {
        throw std::logic_error("the signer " + signer.lower() + " has no chain_signers row");
    }
    co_return r.getInt(0, 0);
}

rt::Task<std::optional<StoredTx>> TxStore::byReference(rt::PgConn& tx, std::string purpose,
                                                       std::string reference) {
    const std::string sql = "SELECT " + std::string(kColumns) +
                            " FROM chain_transactions WHERE purpose = $1 AND reference = $2";
    auto r = co_await tx.query(sql, purpose, reference);
    auto all = rows(r);
    co_return all.empty() ? std::nullopt : std::optional<StoredTx>(std::move(all[0]));
}

rt::Task<std::optional<StoredTx>> TxStore::byId(rt::PgPool& pool, std::string id) {
    const std::string sql =
        "SELECT " + std::string(kColumns) + " FROM chain_transactions WHERE id = $1::uuid";
    auto r = co_await pool.query(sql, id);
    auto all = rows(r);
    co_return all.empty() ? std::nullopt : std::optional<StoredTx>(std::move(all[0]));
}

rt::Task<void> TxStore::insert(rt::PgConn& tx, const StoredTx& t) {
    std::optional<std::string> to;
    if (t.to) {
        to = t.to->lower();
    }
    co_await tx.query(
        "INSERT INTO chain_transactions (id, signer, nonce, purpose, reference, to_address, "
        "value_wei, data, gas_limit, max_fee_wei, priority_fee_wei, raw, hash, hashes, state) "
        "VALUES ($1::uuid, $2, $3::bigint, $4, $5, $6, $7::numeric, $8, $9::bigint, "
        "$10::numeric, $11::numeric, $12, $13, ARRAY[$13], 'signed')",
        t.id, t.signer, t.nonce, t.purpose, t.reference, to, eth::decimal(t.value), hex(t.data),
        t.gas_limit, eth::decimal(t.max_fee), eth::decimal(t.priority_fee), hex(t.raw),
        hex(t.hash));
}

rt::Task<std::vector<StoredTx>> TxStore::open(rt::PgPool& pool, eth::Address signer, int limit) {
    const std::string sql = "SELECT " + std::string(kColumns) +
                            " FROM chain_transactions WHERE signer = $1 AND state IN ('signed', "
                            "'sent', 'mined') ORDER BY nonce LIMIT $2::int";
    auto r = co_await pool.query(sql, signer.lower(), limit);
    co_return rows(r);
}

rt::Task<void> TxStore::markSent(rt::PgPool& pool, std::string id) {
    co_await pool.query(
        "UPDATE chain_transactions SET state = 'sent', last_sent_at = now(), updated_at = now() "
        "WHERE id = $1::uuid AND state = 'signed'",
        id);
}

rt::Task<void> TxStore::replace(rt::PgConn& tx, std::string id, std::string raw, std::string hash,
                                U256 max_fee, U256 priority_fee) {
    co_await tx.query(
        "UPDATE chain_transactions SET raw = $2, hash = $3::text, hashes = array_append(hashes, "
        "$3::text), "
        "max_fee_wei = $4::numeric, priority_fee_wei = $5::numeric, replacements = "
        "replacements + 1, state = 'signed', updated_at = now() WHERE id = $1::uuid",
        id, hex(raw), hex(hash), eth::decimal(max_fee), eth::decimal(priority_fee));
}

rt::Task<void> TxStore::markMined(rt::PgPool& pool, std::string id, Mined m) {
    std::optional<std::string> created;
    if (!m.contract_address.empty()) {
        created = m.contract_address;
    }
    co_await pool.query(
        "UPDATE chain_transactions SET state = 'mined', mined_hash = $2, mined_block = "
        "$3::bigint, mined_block_hash = $4, receipt_status = $5::int, gas_used = $6::bigint, "
        "contract_address = $7, updated_at = now() WHERE id = $1::uuid",
        id, hex(m.hash), m.block, hex(m.block_hash), m.status, m.gas_used, created);
}

rt::Task<void> TxStore::unmine(rt::PgPool& pool, std::string id) {
    co_await pool.query(
        "UPDATE chain_transactions SET state = 'sent', mined_hash = NULL, mined_block = NULL, "
        "mined_block_hash = NULL, receipt_status = NULL, gas_used = NULL, contract_address = "
        "NULL, last_sent_at = now(), updated_at = now() WHERE id = $1::uuid AND state = 'mined'",
        id);
}

rt::Task<void> TxStore::finish(rt::PgConn& tx, std::string id, bool succeeded) {
    co_await tx.query(
        "UPDATE chain_transactions SET state = $2, updated_at = now() WHERE id = $1::uuid", id,
        std::string(succeeded ? "confirmed" : "failed"));
}

}  // namespace restinu::blockchain
