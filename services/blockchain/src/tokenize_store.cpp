#include "tokenize_store.hpp"

#include <array>

#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::blockchain {
namespace {

constexpr std::string_view kColumns =
    "property_id::text AS property_id, requested_by::text AS requested_by, total_shares, "
    "price_minor, currency, symbol, metadata_cid, token_id::text AS token_id, deed_tx_id::text "
    "AS deed_tx_id, shares_tx_id::text AS shares_tx_id, deed_minted, coalesce(shares_address, "
    "'') AS shares_address, state, coalesce(failure, '') AS failure, restinu_iso(created_at) AS "
    "created_at, coalesce(restinu_iso(listed_at), '') AS listed_at";

Tokenization rowOf(const rt::PgResult& r, std::size_t i) {
    static constexpr std::array<std::string_view, 16> kNames{
        "property_id", "requested_by", "total_shares", "price_minor",
        "currency",    "symbol",       "metadata_cid", "token_id",
        "deed_tx_id",  "shares_tx_id", "deed_minted",  "shares_address",
        "state",       "failure",      "created_at",   "listed_at"};
    const auto c = rt::requireColumns(r, kNames);
    Tokenization t;
    t.property_id = r.get(i, c[0]);
    t.requested_by = r.get(i, c[1]);
    t.total_shares = r.getInt(i, c[2]);
    t.price_minor = r.getInt(i, c[3]);
    t.currency = r.get(i, c[4]);
    t.symbol = r.get(i, c[5]);
    t.metadata_cid = r.get(i, c[6]);
    t.token_id = r.get(i, c[7]);
    t.deed_tx_id = r.get(i, c[8]);
    t.shares_tx_id = r.get(i, c[9]);
    t.deed_minted = r.get(i, c[10]) == "t";
    t.shares_address = r.get(i, c[11]);
    t.state = r.get(i, c[12]);
    t.failure = r.get(i, c[13]);
    t.created_at = r.get(i, c[14]);
    t.listed_at = r.get(i, c[15]);
    return t;
}

}  // namespace

rt::Task<std::optional<Tokenization>> TokenizeStore::find(rt::PgConn& c, std::string property_id) {
    const std::string sql = "SELECT " + std::string(kColumns) +
                            " FROM chain_tokenizations WHERE property_id = $1::uuid";
    auto r = co_await c.query(sql, property_id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return rowOf(r, 0);
}

rt::Task<void> TokenizeStore::insert(rt::PgConn& tx, const Tokenization& t) {
    co_await tx.query(
        "INSERT INTO chain_tokenizations (property_id, requested_by, total_shares, price_minor, "
        "currency, symbol, metadata_cid, token_id, deed_tx_id, shares_tx_id, state) VALUES "
        "($1::uuid, $2::uuid, $3::bigint, $4::bigint, $5, $6, $7, $8::numeric, $9::uuid, "
        "$10::uuid, 'pending')",
        t.property_id, t.requested_by, t.total_shares, t.price_minor, t.currency, t.symbol,
        t.metadata_cid, t.token_id, t.deed_tx_id, t.shares_tx_id);
}

rt::Task<std::optional<Tokenization>> TokenizeStore::stepConfirmed(rt::PgConn& tx,
                                                                   std::string property_id,
                                                                   std::string purpose,
                                                                   std::string contract_address) {
    if (purpose == "deed.mint") {
        co_await tx.query(
            "UPDATE chain_tokenizations SET deed_minted = true WHERE property_id = $1::uuid",
            property_id);
    } else {
        co_await tx.query(
            "UPDATE chain_tokenizations SET shares_address = $2 WHERE property_id = $1::uuid",
            property_id, contract_address);
    }
    const std::string sql =
        "UPDATE chain_tokenizations SET state = 'listed', listed_at = now() WHERE property_id = "
        "$1::uuid AND state = 'pending' AND deed_minted AND shares_address IS NOT NULL "
        "RETURNING " +
        std::string(kColumns);
    auto r = co_await tx.query(sql, property_id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return rowOf(r, 0);
}

rt::Task<void> TokenizeStore::fail(rt::PgConn& tx, std::string property_id, std::string reason) {
    co_await tx.query(
        "UPDATE chain_tokenizations SET state = 'failed', failure = $2 WHERE property_id = "
        "$1::uuid AND state = 'pending'",
        property_id, reason);
}

}  // namespace restinu::blockchain
