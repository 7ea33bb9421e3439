#include "indexer_store.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::blockchain {
namespace {

using eth::U256;

// Held by a pass's apply transaction and by watch(): one key for the whole indexer.
constexpr std::int64_t kIndexerLock = 0x636861696e696478;  // "chainidx"

constexpr std::string_view kZeroAddress = "0x0000000000000000000000000000000000000000";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

U256 decimalOf(std::string_view text) {
    auto v = eth::parseDecimal(text);
    if (!v) {
        throw std::runtime_error("chain indexer: not a token amount: " + std::string(text));
    }
    return *v;
}

std::optional<std::int64_t> optInt(const rt::PgResult& r, std::size_t row, int col) {
    if (r.isNull(row, col)) {
        return std::nullopt;
    }
    return r.getInt(row, col);
}

std::optional<std::string> optText(const rt::PgResult& r, std::size_t row, int col) {
    auto v = r.opt(row, col);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

// One INSERT of an effect row, ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1.
struct Insert {
    std::string_view sql;
    std::vector<rt::PgParam> params;
};

// The place columns ($1-$5) every effect table has, then the effect's own.
std::vector<rt::PgParam> placeParams(const IndexedLog& log) {
    return {log.contract, log.block_number, log.block_hash, log.log_index, log.tx_hash};
}

std::vector<Insert> insertsFor(const IndexedLog& log) {
    auto params = placeParams(log);
    auto with = [&params](std::vector<rt::PgParam> own) {
        auto all = params;
        all.insert(all.end(), own.begin(), own.end());
        return all;
    };
    struct Visitor {
        const IndexedLog& log;
        decltype(with)& add;
        std::vector<Insert> operator()(const DeedTransferLog& e) const {
            std::vector<Insert> out;
            out.push_back(
                {"INSERT INTO chain_deed_transfers (contract, block_number, block_hash, log_index, "
                 "tx_hash, token_id, from_address, to_address) "
                 "VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8) "
                 "ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1",
                 add({eth::decimal(e.token_id), e.from.lower(), e.to.lower()})});
            if (e.from == eth::Address()) {
                out.push_back(
                    {"INSERT INTO chain_deeds_minted (contract, block_number, block_hash, "
                     "log_index, tx_hash, token_id, owner, uri) "
                     "VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8) "
                     "ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1",
                     add({eth::decimal(e.token_id), e.to.lower(), log.uri})});
            }
            return out;
        }
        std::vector<Insert> operator()(const ShareTransferLog& e) const {
            return {
                {"INSERT INTO chain_share_transfers (contract, block_number, block_hash, "
                 "log_index, tx_hash, from_address, to_address, amount) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric) "
                 "ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1",
                 add({e.from.lower(), e.to.lower(), eth::decimal(e.amount)})}};
        }
        std::vector<Insert> operator()(const RentDepositLog& e) const {
            return {
                {"INSERT INTO chain_rent_deposits (contract, block_number, block_hash, "
                 "log_index, tx_hash, by_address, amount) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7::numeric) "
                 "ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1",
                 add({e.by.lower(), eth::decimal(e.amount)})}};
        }
        std::vector<Insert> operator()(const RentClaimLog& e) const {
            return {
                {"INSERT INTO chain_rent_claims (contract, block_number, block_hash, "
                 "log_index, tx_hash, holder, amount) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7::numeric) "
                 "ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1",
                 add({e.holder.lower(), eth::decimal(e.amount)})}};
        }
        std::vector<Insert> operator()(const RecoveryLog& e) const {
            return {
                {"INSERT INTO chain_recoveries (contract, block_number, block_hash, "
                 "log_index, tx_hash, lost, replacement, amount) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric) "
                 "ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1",
                 add({e.lost.lower(), e.replacement.lower(), eth::decimal(e.amount)})}};
        }
        std::vector<Insert> operator()(const IdentityLog& e) const {
            return {
                {"INSERT INTO chain_identity_changes (contract, block_number, block_hash, "
                 "log_index, tx_hash, wallet, registered) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7) "
                 "ON CONFLICT (block_hash, log_index) DO NOTHING RETURNING 1",
                 add({e.wallet.lower(), e.registered})}};
        }
    };
    return std::visit(Visitor{log, with}, log.effect);
}

// Every effect table: a rollback deletes from each.
constexpr std::array<std::string_view, 7> kRollbackDeletes = {
    "DELETE FROM chain_deeds_minted WHERE block_number > $1",
    "DELETE FROM chain_deed_transfers WHERE block_number > $1",
    "DELETE FROM chain_share_transfers WHERE block_number > $1",
    "DELETE FROM chain_rent_deposits WHERE block_number > $1",
    "DELETE FROM chain_rent_claims WHERE block_number > $1",
    "DELETE FROM chain_recoveries WHERE block_number > $1",
    "DELETE FROM chain_identity_changes WHERE block_number > $1",
};

}  // namespace

rt::Task<void> IndexerStore::watch(rt::PgConn& tx, std::string address, ContractKind kind,
                                   std::optional<std::string> property_id,
                                   std::int64_t from_block) {
    co_await tx.query("SELECT pg_advisory_xact_lock($1)", kIndexerLock);
    const std::string kind_name(contractKindName(kind));
    co_await tx.query(
        "INSERT INTO chain_watched (address, kind, property_id, from_block, backfill_from, "
        "backfill_to) "
        "SELECT $1, $2, $3::uuid, $4::bigint, "
        "       CASE WHEN b.hi >= $4::bigint THEN GREATEST($4::bigint, b.lo) END, "
        "       CASE WHEN b.hi >= $4::bigint THEN b.hi END "
        "FROM (SELECT min(number) AS lo, max(number) AS hi FROM chain_blocks) b "
        "ON CONFLICT (address) DO NOTHING",
        lower(address), kind_name, property_id, from_block);
}

rt::Task<std::vector<WatchedContract>> IndexerStore::watched(rt::PgPool& pool) {
    auto r = co_await pool.query(
        "SELECT address, kind, property_id::text AS property_id, from_block, backfill_from, "
        "backfill_to FROM chain_watched ORDER BY address");
    const auto c = rt::requireColumns<6>(
        r, {"address", "kind", "property_id", "from_block", "backfill_from", "backfill_to"});
    std::vector<WatchedContract> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        WatchedContract w;
        w.address = std::string(r.get(i, c[0]));
        auto kind = parseContractKind(r.get(i, c[1]));
        if (!kind) {
            continue;  // the CHECK constraint makes this impossible
        }
        w.kind = *kind;
        w.property_id = optText(r, i, c[2]);
        w.from_block = r.getInt(i, c[3]);
        w.backfill_from = optInt(r, i, c[4]);
        w.backfill_to = optInt(r, i, c[5]);
        out.push_back(std::move(w));
    }
    co_return out;
}

rt::Task<std::vector<std::string>> IndexerStore::lockWatched(rt::PgConn& tx) {
    co_await tx.query("SELECT pg_advisory_xact_lock($1)", kIndexerLock);
    auto r = co_await tx.query("SELECT address FROM chain_watched ORDER BY address");
    const auto c = rt::requireColumn(r, "address");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.emplace_back(r.get(i, c));
    }
    co_return out;
}

namespace {

std::vector<StoredBlock> readBlocks(const rt::PgResult& r) {
    const auto c = rt::requireColumns<4>(r, {"number", "hash", "parent_hash", "events_emitted"});
    std::vector<StoredBlock> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back({r.getInt(i, c[0]), std::string(r.get(i, c[1])), std::string(r.get(i, c[2])),
                       r.get(i, c[3]) == "t"});
    }
    return out;
}

}  // namespace

rt::Task<std::optional<StoredBlock>> IndexerStore::tip(rt::PgPool& pool) {
    auto r = co_await pool.query(
        "SELECT number, hash, parent_hash, events_emitted FROM chain_blocks "
        "ORDER BY number DESC LIMIT 1");
    auto rows = readBlocks(r);
    if (rows.empty()) {
        co_return std::nullopt;
    }
    co_return rows.front();
}

rt::Task<std::vector<StoredBlock>> IndexerStore::blocks(rt::PgPool& pool, std::int64_t from,
                                                        std::int64_t to) {
    auto r = co_await pool.query(
        "SELECT number, hash, parent_hash, events_emitted FROM chain_blocks "
        "WHERE number BETWEEN $1 AND $2 ORDER BY number",
        from, to);
    co_return readBlocks(r);
}

rt::Task<void> IndexerStore::insertBlock(rt::PgConn& tx, StoredBlock block) {
    co_await tx.query(
        "INSERT INTO chain_blocks (number, hash, parent_hash, events_emitted) "
        "VALUES ($1, $2, $3, $4)",
        block.number, block.hash, block.parent_hash, block.events_emitted);
}

rt::Task<bool> IndexerStore::insertLog(rt::PgConn& tx, IndexedLog log) {
    auto inserts = insertsFor(log);
    bool first_new = false;
    for (std::size_t i = 0; i < inserts.size(); ++i) {
        auto r = co_await tx.query(inserts[i].sql, std::move(inserts[i].params));
        if (i == 0) {
            first_new = r.rows() > 0;
        }
    }
    co_return first_new;
}

rt::Task<Rollback> IndexerStore::rollbackAbove(rt::PgConn& tx, std::int64_t ancestor) {
    Rollback out;
    for (auto sql : kRollbackDeletes) {
        auto r = co_await tx.query(sql, ancestor);
        out.effects += static_cast<std::int64_t>(r.affected());
    }
    auto r = co_await tx.query(
        "WITH gone AS (DELETE FROM chain_blocks WHERE number > $1 RETURNING events_emitted) "
        "SELECT count(*) AS blocks, count(*) FILTER (WHERE events_emitted) AS emitted FROM gone",
        ancestor);
    const auto c = rt::requireColumns<2>(r, {"blocks", "emitted"});
    out.blocks = r.getInt(0, c[0]);
    out.emitted_blocks = r.getInt(0, c[1]);
    // Backfill ranges cannot reach past the chain that is left; re-indexing covers the rest.
    co_await tx.query(
        "UPDATE chain_watched SET "
        "  backfill_from = CASE WHEN backfill_from <= $1 THEN backfill_from END, "
        "  backfill_to = CASE WHEN backfill_from <= $1 THEN LEAST(backfill_to, $1) END "
        "WHERE backfill_to > $1",
        ancestor);
    co_return out;
}

rt::Task<std::vector<std::int64_t>> IndexerStore::dueBlocks(rt::PgConn& tx, std::int64_t up_to,
                                                            int limit) {
    auto r = co_await tx.query(
        "SELECT number FROM chain_blocks WHERE NOT events_emitted AND number <= $1 "
        "ORDER BY number LIMIT $2 FOR UPDATE SKIP LOCKED",
        up_to, limit);
    const auto c = rt::requireColumn(r, "number");
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back(r.getInt(i, c));
    }
    co_return out;
}

rt::Task<std::vector<IndexedLog>> IndexerStore::eventEffects(rt::PgConn& tx, std::int64_t from,
                                                             std::int64_t to) {
    auto r = co_await tx.query(
        "SELECT e.kind, e.contract, e.a, e.b, e.n::text AS n, e.uri, e.block_number, "
        "       e.block_hash, e.log_index, e.tx_hash, w.property_id::text AS property_id "
        "FROM ("
        "  SELECT 'mint' AS kind, contract, NULL::text AS a, owner AS b, token_id AS n, uri, "
        "         block_number, block_hash, log_index, tx_hash "
        "  FROM chain_deeds_minted WHERE block_number BETWEEN $1 AND $2 "
        "  UNION ALL "
        "  SELECT 'transfer', contract, from_address, to_address, amount, NULL, "
        "         block_number, block_hash, log_index, tx_hash "
        "  FROM chain_share_transfers WHERE block_number BETWEEN $1 AND $2 "
        "  UNION ALL "
        "  SELECT 'deposit', contract, by_address, NULL, amount, NULL, "
        "         block_number, block_hash, log_index, tx_hash "
        "  FROM chain_rent_deposits WHERE block_number BETWEEN $1 AND $2 "
        "  UNION ALL "
        "  SELECT 'claim', contract, holder, NULL, amount, NULL, "
        "         block_number, block_hash, log_index, tx_hash "
        "  FROM chain_rent_claims WHERE block_number BETWEEN $1 AND $2"
        ") e LEFT JOIN chain_watched w ON w.address = e.contract "
        "ORDER BY e.block_number, e.log_index",
        from, to);
    const auto c =
        rt::requireColumns<11>(r, {"kind", "contract", "a", "b", "n", "uri", "block_number",
                                   "block_hash", "log_index", "tx_hash", "property_id"});
    auto address = [&r](std::size_t i, int col) {
        auto a = eth::Address::parse(r.get(i, col));
        if (!a) {
            throw std::runtime_error("chain indexer: a stored address is malformed");
        }
        return *a;
    };
    std::vector<IndexedLog> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        IndexedLog log;
        const auto kind = r.get(i, c[0]);
        const auto n = decimalOf(r.get(i, c[4]));
        if (kind == "mint") {
            log.effect = DeedTransferLog{eth::Address(), address(i, c[3]), n};
        } else if (kind == "transfer") {
            log.effect = ShareTransferLog{address(i, c[2]), address(i, c[3]), n};
        } else if (kind == "deposit") {
            log.effect = RentDepositLog{address(i, c[2]), n};
        } else {
            log.effect = RentClaimLog{address(i, c[2]), n};
        }
        log.contract = std::string(r.get(i, c[1]));
        log.uri = optText(r, i, c[5]);
        log.block_number = r.getInt(i, c[6]);
        log.block_hash = std::string(r.get(i, c[7]));
        log.log_index = r.getInt(i, c[8]);
        log.tx_hash = std::string(r.get(i, c[9]));
        log.property_id = optText(r, i, c[10]);
        out.push_back(std::move(log));
    }
    co_return out;
}

rt::Task<void> IndexerStore::markEmitted(rt::PgConn& tx, std::vector<std::int64_t> numbers) {
    std::string list = "{";
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        list += (i == 0 ? "" : ",") + std::to_string(numbers[i]);
    }
    list += "}";
    co_await tx.query(
        "UPDATE chain_blocks SET events_emitted = true WHERE number = ANY($1::bigint[])", list);
}

rt::Task<bool> IndexerStore::emitted(rt::PgConn& tx, std::int64_t number) {
    auto r = co_await tx.query(
        "SELECT events_emitted FROM chain_blocks WHERE number = $1 FOR SHARE", number);
    co_return r.rows() > 0 && r.get(0, 0) == "t";
}

rt::Task<void> IndexerStore::setBackfill(rt::PgConn& tx, std::string address, std::int64_t from,
                                         std::int64_t to) {
    if (from > to) {
        co_await tx.query(
            "UPDATE chain_watched SET backfill_from = NULL, backfill_to = NULL WHERE address = $1",
            address);
    } else {
        co_await tx.query(
            "UPDATE chain_watched SET backfill_from = $2, backfill_to = $3 WHERE address = $1",
            address, from, to);
    }
}

rt::Task<std::vector<Holding>> IndexerStore::holdings(rt::PgPool& pool, std::string holder) {
    holder = lower(std::move(holder));
    std::vector<Holding> out;
    if (holder == kZeroAddress) {
        co_return out;  // the mints' source, not a holder
    }
    auto r = co_await pool.query(
        "SELECT t.contract, w.property_id::text AS property_id, sum(t.delta)::text AS balance "
        "FROM (SELECT contract, amount AS delta FROM chain_share_transfers WHERE to_address = $1 "
        "      UNION ALL "
        "      SELECT contract, -amount FROM chain_share_transfers WHERE from_address = $1) t "
        "LEFT JOIN chain_watched w ON w.address = t.contract "
        "GROUP BY t.contract, w.property_id HAVING sum(t.delta) > 0 ORDER BY t.contract",
        holder);
    const auto c = rt::requireColumns<3>(r, {"contract", "property_id", "balance"});
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back(
            {std::string(r.get(i, c[0])), optText(r, i, c[1]), decimalOf(r.get(i, c[2]))});
    }
    co_return out;
}

rt::Task<U256> IndexerStore::rentClaimed(rt::PgPool& pool, std::string holder,
                                         std::string contract) {
    auto r = co_await pool.query(
        "SELECT coalesce(sum(amount), 0)::text AS claimed FROM chain_rent_claims "
        "WHERE holder = $1 AND contract = $2",
        lower(std::move(holder)), lower(std::move(contract)));
    co_return decimalOf(r.get(0, rt::requireColumn(r, "claimed")));
}

}  // namespace restinu::blockchain
