#include "indexer.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

#include "abi.hpp"
#include "chain_logs.hpp"
#include "chain_reader.hpp"
#include "indexer_store.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pass_loop.hpp"
#include "restinu/rt/pg.hpp"
#include "rpc.hpp"

namespace restinu::blockchain {

namespace net = boost::asio;
using eth::U256;

namespace {

constexpr std::string_view kLogger = "chain-indexer";

}  // namespace

struct Indexer::Impl : std::enable_shared_from_this<Impl> {
    Impl(rt::IoContext& i, rt::PgPool& p, eth::RpcClient& r, IndexerSettings s,
         rt::MetricsRegistry& metrics)
        : io(i),
          pool(p),
          rpc(r),
          settings(s),
          blocks_total(metrics.counter("restinu_chain_indexer_blocks_total",
                                       "Blocks the chain indexer stored", {})),
          logs_total(metrics.counter("restinu_chain_indexer_logs_total",
                                     "Logs of watched contracts by outcome: applied, duplicate "
                                     "(stored already), undecodable (skipped)",
                                     {"outcome"})),
          reorgs_total(metrics.counter("restinu_chain_indexer_reorgs_total",
                                       "Reorgs the chain indexer rolled back", {})),
          reorged_blocks_total(metrics.counter("restinu_chain_indexer_reorged_blocks_total",
                                               "Indexed blocks removed by reorgs", {})),
          events_total(metrics.counter("restinu_chain_indexer_events_total",
                                       "Events the chain indexer wrote to the outbox", {})),
          errors_total(metrics.counter("restinu_chain_indexer_errors_total",
                                       "Failed passes: node (unreachable or an RPC error) or "
                                       "other",
                                       {"kind"})),
          head_block(metrics.gauge("restinu_chain_indexer_head_block",
                                   "The node's head block at the last pass", {})),
          tip_block(metrics.gauge("restinu_chain_indexer_tip_block",
                                  "The highest block the indexer stored", {})) {
        settings.confirmations = std::max(settings.confirmations, 1);
        settings.batch_blocks = std::max(settings.batch_blocks, 1);
        settings.emit_blocks = std::max(settings.emit_blocks, 1);
    }

    // The effects of `raw` (logs of watched contracts), with the deeds' token URIs read.
    rt::Task<std::vector<IndexedLog>> decodeAll(std::vector<RawLog> raw,
                                                std::map<std::string, WatchedContract> by_address) {
        std::vector<IndexedLog> out;
        for (auto& r : raw) {
            auto w = by_address.find(r.address);
            if (r.removed || w == by_address.end()) {
                continue;
            }
            std::optional<LogEffect> effect;
            try {
                effect = decodeLog(w->second.kind, r.topics, r.data);
            } catch (const eth::abi::AbiError& e) {
                logs_total.labels({"undecodable"}).inc();
                rt::log::warn(kLogger, "a log of a watched contract does not fit its event",
                              {{"contract", r.address},
                               {"block_hash", r.block_hash},
                               {"log_index", std::to_string(r.log_index)},
                               {"error", e.what()}});
            }
            if (!effect) {
                continue;
            }
            IndexedLog log{r.address, r.block_number, r.block_hash, r.log_index,
                           r.tx_hash, *effect,        std::nullopt, w->second.property_id};
            if (const auto* d = std::get_if<DeedTransferLog>(&log.effect);
                d != nullptr && d->from == eth::Address()) {
                log.uri = co_await readTokenUri(rpc, log.contract, d->token_id, log.block_number);
            }
            out.push_back(std::move(log));
        }
        co_return out;
    }

    // Walks back from `start` to the highest block the node and chain_blocks agree on and
    // deletes everything above it; how many blocks went.
    rt::Task<std::int64_t> rollBack(std::int64_t start) {
        constexpr std::int64_t kWindow = 64;
        std::int64_t ancestor = -1;
        std::int64_t n = start;
        bool found = false;
        while (!found && n >= 0) {
            auto stored =
                co_await IndexerStore::blocks(pool, std::max<std::int64_t>(0, n - kWindow + 1), n);
            if (stored.empty()) {
                break;  // below everything indexed: nothing left in common
            }
            for (auto it = stored.rbegin(); it != stored.rend() && !found; ++it) {
                auto node = co_await readHeader(rpc, it->number);
                if (node && node->hash == it->hash) {
                    ancestor = it->number;
                    found = true;
                }
            }
            n = stored.front().number - 1;
        }
        std::function<rt::Task<Rollback>(rt::PgConn&)> body =
            [ancestor](rt::PgConn& tx) -> rt::Task<Rollback> {
            co_return co_await IndexerStore::rollbackAbove(tx, ancestor);
        };
        const auto gone = co_await pool.transaction(std::move(body));
        reorgs_total.labels({}).inc();
        reorged_blocks_total.labels({}).inc(static_cast<std::uint64_t>(gone.blocks));
        rt::log::warn(kLogger, "reorg: rolled back to the common ancestor",
                      {{"ancestor", std::to_string(ancestor)},
                       {"blocks", std::to_string(gone.blocks)},
                       {"effects", std::to_string(gone.effects)}});
        if (gone.emitted_blocks > 0) {
            rt::log::error(kLogger,
                           "reorg deeper than the confirmations: events already published "
                           "came from blocks that are no longer on the chain",
                           {{"blocks", std::to_string(gone.emitted_blocks)},
                            {"confirmations", std::to_string(settings.confirmations)}});
        }
        co_return gone.blocks;
    }

    // Where the stored chain left the node's, or none if it has not. `head` is the node's.
    rt::Task<std::optional<std::int64_t>> divergence(const StoredBlock& tip, std::int64_t head) {
        if (head > tip.number) {
            auto next = co_await readHeader(rpc, tip.number + 1);
            if (next && next->parent_hash != tip.hash) {
                co_return tip.number;
            }
            co_return std::nullopt;
        }
        // Not ahead of us: the node's block at its head must be ours (else wait for it).
        auto at = co_await readHeader(rpc, head);
        auto stored = co_await IndexerStore::blocks(pool, head, head);
        if (at && !stored.empty() && at->hash != stored.front().hash) {
            co_return head;
        }
        co_return std::nullopt;
    }

    // Stores headers [next, ...] and their logs of the watched contracts in one transaction.
    rt::Task<void> indexForward(const std::optional<StoredBlock>& tip, std::int64_t head,
                                const std::vector<WatchedContract>& watched, IndexerPass& pass) {
        std::int64_t next = 0;
        if (tip) {
            next = tip->number + 1;
        } else {
            next =
                std::min_element(watched.begin(), watched.end(), [](const auto& a, const auto& b) {
                    return a.from_block < b.from_block;
                })->from_block;
        }
        if (next > head) {
            co_return;
        }
        const std::int64_t last = std::min(head, next + settings.batch_blocks - 1);
        std::vector<BlockHeader> headers;
        std::string parent = tip ? tip->hash : std::string();
        for (std::int64_t n = next; n <= last; ++n) {
            auto h = co_await readHeader(rpc, n);
            if (!h || h->number != n || (!parent.empty() && h->parent_hash != parent)) {
                break;  // the chain moved while reading: keep what links, the rest next pass
            }
            parent = h->hash;
            headers.push_back(std::move(*h));
        }
        if (headers.empty()) {
            co_return;  // the node lost the block it counted: try again at the next poll
        }
        std::vector<std::string> addresses;
        std::map<std::string, WatchedContract> by_address;
        for (const auto& w : watched) {
            addresses.push_back(w.address);
            by_address.emplace(w.address, w);
        }
        auto raw = co_await readLogs(rpc, addresses, headers.front().number, headers.back().number);
        for (const auto& r : raw) {
            const auto i = r.block_number - headers.front().number;
            if (i < 0 || i >= static_cast<std::int64_t>(headers.size()) ||
                headers[static_cast<std::size_t>(i)].hash != r.block_hash) {
                pass.behind = true;  // a log of another fork: read again
                co_return;
            }
        }
        auto logs = co_await decodeAll(std::move(raw), by_address);

        const std::set<std::string> seen(addresses.begin(), addresses.end());
        std::int64_t applied = 0;
        std::int64_t duplicates = 0;
        bool moved = false;
        std::function<rt::Task<void>(rt::PgConn&)> body = [&](rt::PgConn& tx) -> rt::Task<void> {
            auto now = co_await IndexerStore::lockWatched(tx);
            for (const auto& a : now) {
                if (seen.count(a) == 0) {
                    moved = true;  // watched meanwhile: read its logs too
                    co_return;
                }
            }
            for (const auto& h : headers) {
                StoredBlock b{h.number, h.hash, h.parent_hash, false};
                co_await IndexerStore::insertBlock(tx, std::move(b));
            }
            for (const auto& log : logs) {
                const bool fresh = co_await IndexerStore::insertLog(tx, log);
                ++(fresh ? applied : duplicates);
            }
            if (fail_before_commit) {
                fail_before_commit = false;
                throw std::runtime_error("failing before commit, as the test asked");
            }
        };
        co_await pool.transaction(std::move(body));
        if (moved) {
            pass.behind = true;
            co_return;
        }
        pass.blocks = static_cast<std::int64_t>(headers.size());
        pass.logs += applied;
        pass.duplicates += duplicates;
        pass.behind = pass.behind || headers.back().number < head;
        blocks_total.labels({}).inc(static_cast<std::uint64_t>(headers.size()));
        logs_total.labels({"applied"}).inc(static_cast<std::uint64_t>(applied));
        logs_total.labels({"duplicate"}).inc(static_cast<std::uint64_t>(duplicates));
        tip_block.labels({}).set(static_cast<double>(headers.back().number));
    }

    // Applies the logs of a contract watched after the indexer passed its first block, over
    // indexed blocks only; events of blocks already published go out with them.
    rt::Task<void> backfill(const WatchedContract& w, IndexerPass& pass) {
        const auto from = *w.backfill_from;
        const auto to = std::min(*w.backfill_to, from + settings.batch_blocks - 1);
        auto stored = co_await IndexerStore::blocks(pool, from, to);
        std::map<std::int64_t, std::string> hashes;
        for (const auto& b : stored) {
            hashes.emplace(b.number, b.hash);
        }
        std::vector<std::string> address{w.address};
        auto raw = co_await readLogs(rpc, std::move(address), from, to);
        for (const auto& r : raw) {
            auto it = hashes.find(r.block_number);
            if (it != hashes.end() && it->second != r.block_hash) {
                pass.behind = true;  // the chain moved: the reorg check comes first next pass
                co_return;
            }
        }
        std::map<std::string, WatchedContract> one{{w.address, w}};
        auto logs = co_await decodeAll(std::move(raw), one);
        std::int64_t events = 0;
        std::function<rt::Task<void>(rt::PgConn&)> body = [&](rt::PgConn& tx) -> rt::Task<void> {
            co_await IndexerStore::lockWatched(tx);
            for (const auto& log : logs) {
                if (hashes.count(log.block_number) == 0) {
                    continue;  // rolled back meanwhile, or below the indexed chain
                }
                const bool fresh = co_await IndexerStore::insertLog(tx, log);
                const bool published = co_await IndexerStore::emitted(tx, log.block_number);
                auto event = chainEvent(log);
                if (fresh && published && event) {
                    co_await rt::enqueueEvent(tx, *event);
                    ++events;
                }
            }
            co_await IndexerStore::setBackfill(tx, w.address, to + 1, *w.backfill_to);
        };
        co_await pool.transaction(std::move(body));
        pass.events += events;
        events_total.labels({}).inc(static_cast<std::uint64_t>(events));
        pass.behind = pass.behind || to < *w.backfill_to;
    }

    // Writes the events of the blocks that are now `confirmations` deep.
    rt::Task<void> emitDue(IndexerPass& pass) {
        auto tip = co_await IndexerStore::tip(pool);
        if (!tip) {
            co_return;
        }
        const std::int64_t up_to = tip->number - (settings.confirmations - 1);
        const int limit = settings.emit_blocks;
        std::int64_t events = 0;
        bool full = false;
        std::function<rt::Task<void>(rt::PgConn&)> body = [&](rt::PgConn& tx) -> rt::Task<void> {
            auto due = co_await IndexerStore::dueBlocks(tx, up_to, limit);
            if (due.empty()) {
                co_return;
            }
            full = static_cast<int>(due.size()) == limit;
            const std::set<std::int64_t> wanted(due.begin(), due.end());
            auto effects = co_await IndexerStore::eventEffects(tx, due.front(), due.back());
            for (const auto& e : effects) {
                auto event = chainEvent(e);
                if (wanted.count(e.block_number) == 0 || !event) {
                    continue;
                }
                co_await rt::enqueueEvent(tx, *event);
                ++events;
            }
            co_await IndexerStore::markEmitted(tx, due);
        };
        co_await pool.transaction(std::move(body));
        pass.events += events;
        pass.behind = pass.behind || full;
        events_total.labels({}).inc(static_cast<std::uint64_t>(events));
    }

    rt::Task<IndexerPass> runOnce() {
        IndexerPass pass;
        auto watched = co_await IndexerStore::watched(pool);
        if (watched.empty()) {
            co_return pass;
        }
        const auto node_head = co_await rpc.blockNumber();
        const auto head = blockNumberOf(node_head);
        head_block.labels({}).set(static_cast<double>(head));
        auto tip = co_await IndexerStore::tip(pool);
        if (tip) {
            auto diverged = co_await divergence(*tip, head);
            if (diverged) {
                pass.rolled_back = co_await rollBack(*diverged);
                pass.behind = true;
                co_return pass;
            }
        }
        co_await indexForward(tip, head, watched, pass);
        for (const auto& w : watched) {
            if (w.backfill_from && w.backfill_to && *w.backfill_from <= *w.backfill_to) {
                co_await backfill(w, pass);
            }
        }
        co_await emitDue(pass);
        co_return pass;
    }

    rt::IoContext& io;
    rt::PgPool& pool;
    eth::RpcClient& rpc;
    IndexerSettings settings;
    rt::Family<rt::Counter>& blocks_total;
    rt::Family<rt::Counter>& logs_total;
    rt::Family<rt::Counter>& reorgs_total;
    rt::Family<rt::Counter>& reorged_blocks_total;
    rt::Family<rt::Counter>& events_total;
    rt::Family<rt::Counter>& errors_total;
    rt::Family<rt::Gauge>& head_block;
    rt::Family<rt::Gauge>& tip_block;
    bool fail_before_commit = false;
};

Indexer::Indexer(rt::IoContext& io, rt::PgPool& pool, eth::RpcClient& rpc, IndexerSettings settings,
                 rt::MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(io, pool, rpc, settings, metrics)) {
    std::weak_ptr<Impl> weak = impl_;
    loop_ = std::make_unique<rt::PassLoop>(
        io, settings.poll, std::string(kLogger),
        [weak]() -> rt::Task<bool> {
            auto self = weak.lock();
            if (!self) {
                co_return false;
            }
            auto pass = co_await self->runOnce();
            co_return pass.behind;  // while behind, the next pass at once
        },
        [weak](const std::exception& e) {
            if (auto self = weak.lock()) {
                const bool node = dynamic_cast<const eth::RpcUnavailable*>(&e) != nullptr ||
                                  dynamic_cast<const eth::RpcError*>(&e) != nullptr;
                self->errors_total.labels({node ? "node" : "other"}).inc();
            }
        });
}

Indexer::~Indexer() {
    stop();
}

void Indexer::start() {
    loop_->start();
}

void Indexer::stop() {
    loop_->stop();
}

rt::Task<IndexerPass> Indexer::runOnce() {
    return impl_->runOnce();
}

void Indexer::failBeforeCommitForTest() {
    impl_->fail_before_commit = true;
}

}  // namespace restinu::blockchain
