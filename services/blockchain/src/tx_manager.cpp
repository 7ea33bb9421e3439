#include "tx_manager.hpp"

#include <boost/json.hpp>
#include <csignal>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pass_loop.hpp"
#include "restinu/rt/pg.hpp"
#include "rpc.hpp"
#include "transaction.hpp"

namespace restinu::blockchain {

namespace json = boost::json;
using eth::U256;

namespace {

// What a node says when it already has this transaction or its nonce is used: not a failure
// to send, the receipt will tell.
bool alreadyThere(const eth::RpcError& e) {
    const std::string m = e.what();
    for (const char* s : {"already known", "known transaction", "nonce too low",
                          "replacement transaction underpriced", "already imported"}) {
        if (m.find(s) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// a * 9 / 8, rounded up: the 12.5% a replacement must add at least (geth asks for 10%).
U256 bumped(const U256& a) {
    return (a * 9 + 7) / 8;
}

void failpoint(const std::string& configured, std::string_view here) {
    if (configured == here) {
        rt::log::warn("blockchain", "failpoint: killing the process", {{"at", std::string(here)}});
        std::raise(SIGKILL);
    }
}

}  // namespace

struct TxManager::Impl : std::enable_shared_from_this<Impl> {
    Impl(rt::IoContext& i, rt::PgPool& p, eth::RpcClient& r, eth::PrivateKey k, TxSettings s,
         rt::MetricsRegistry& metrics)
        : io(i),
          pool(p),
          rpc(r),
          key(std::move(k)),
          settings(std::move(s)),
          changes(metrics.counter("restinu_chain_transactions_total",
                                  "Transactions by what happened: sent, resent, replaced, mined, "
                                  "reorged, confirmed, failed",
                                  {"outcome"})) {}

    rt::Task<void> init() {
        const auto node_chain = co_await rpc.chainId();
        if (node_chain != settings.chain_id) {
            throw std::runtime_error("the node's chain id is " + eth::decimal(node_chain) +
                                     ", the config says " + eth::decimal(settings.chain_id));
        }
        const auto next = co_await rpc.transactionCount(key.address(), "pending");
        co_await TxStore::ensureSigner(pool, key.address(), settings.chain_id, next);
    }

    rt::Task<Fees> fees() {
        const auto head = co_await rpc.blockNumber();
        auto block = co_await rpc.blockByNumber(head);
        U256 base = 0;
        if (block && block->contains("baseFeePerGas")) {
            base = eth::quantityOf(*block, "baseFeePerGas");
        }
        co_return Fees{base * 2 + settings.priority_fee, settings.priority_fee};
    }

    rt::Task<TxIntent> prepare(TxIntent intent) {
        if (intent.gas_limit != 0) {
            co_return intent;
        }
        json::object call{{"from", key.address().lower()},
                          {"value", eth::quantity(intent.value)},
                          {"data", eth::hex(intent.data)}};
        if (intent.to) {
            call["to"] = intent.to->lower();
        }
        json::array params{json::value(std::move(call))};
        auto v = co_await rpc.call("eth_estimateGas", std::move(params));
        const auto* s = v.if_string();
        auto gas = s != nullptr ? eth::parseQuantity(*s) : std::nullopt;
        if (!gas || *gas > 30'000'000) {
            throw eth::RpcUnavailable("eth_estimateGas gave no usable answer");
        }
        intent.gas_limit = static_cast<std::int64_t>(*gas) * 6 / 5;
        co_return intent;
    }

    eth::SignedTx signVersion(const StoredTx& t, const U256& max_fee, const U256& tip) const {
        eth::Eip1559Tx tx;
        tx.chain_id = settings.chain_id;
        tx.nonce = t.nonce;
        tx.max_priority_fee_per_gas = tip;
        tx.max_fee_per_gas = max_fee;
        tx.gas_limit = t.gas_limit;
        tx.to = t.to;
        tx.value = t.value;
        tx.data = t.data;
        return eth::sign(tx, key);
    }

    rt::Task<StoredTx> enqueue(rt::PgConn& tx, TxIntent intent, Fees f) {
        auto existing = co_await TxStore::byReference(tx, intent.purpose, intent.reference);
        if (existing) {
            co_return *existing;  // asked before: the same transaction, no second nonce
        }
        if (intent.gas_limit <= 0) {
            throw std::invalid_argument("enqueue: prepare() the intent first (no gas limit)");
        }
        StoredTx t;
        t.id = rt::newUuidV7();
        t.signer = key.address().lower();
        t.nonce = co_await TxStore::takeNonce(tx, key.address());
        t.purpose = std::move(intent.purpose);
        t.reference = std::move(intent.reference);
        t.to = intent.to;
        t.value = intent.value;
        t.data = std::move(intent.data);
        t.gas_limit = intent.gas_limit;
        t.max_fee = f.max_fee;
        t.priority_fee = f.priority_fee;
        const auto s = signVersion(t, f.max_fee, f.priority_fee);
        t.raw = s.raw;
        t.hash = s.hash;
        t.hashes = {s.hash};
        t.state = "signed";
        co_await TxStore::insert(tx, t);
        co_return t;
    }

    // Sends the row's latest version; true when the node has it now.
    rt::Task<bool> send(const StoredTx& t) {
        failpoint(settings.failpoint, "before-send");
        try {
            co_await rpc.sendRawTransaction(t.raw);
        } catch (const eth::RpcError& e) {
            if (!alreadyThere(e)) {
                rt::log::warn(
                    "blockchain", "the node refused a transaction",
                    {{"tx", t.id}, {"nonce", std::to_string(t.nonce)}, {"error", e.what()}});
                co_return false;
            }
        }
        failpoint(settings.failpoint, "after-send");
        co_return true;
    }

    rt::Task<std::optional<Mined>> findReceipt(const StoredTx& t) {
        for (const auto& h : t.hashes) {
            auto r = co_await rpc.receipt(h);
            if (!r || !r->contains("blockHash") || (*r)["blockHash"].is_null()) {
                continue;
            }
            Mined m;
            m.hash = h;
            m.block = static_cast<std::int64_t>(eth::quantityOf(*r, "blockNumber"));
            m.block_hash = eth::bytesOf(*r, "blockHash");
            m.status = eth::quantityOf(*r, "status") == 1 ? 1 : 0;
            m.gas_used = static_cast<std::int64_t>(eth::quantityOf(*r, "gasUsed"));
            if (const auto* c = r->if_contains("contractAddress"); c != nullptr && c->is_string()) {
                m.contract_address = std::string(c->as_string());
            }
            co_return m;
        }
        co_return std::nullopt;
    }

    // A stuck transaction: the same nonce, signed again with fees raised at least 12.5% and
    // over the current base fee, recorded (with its event) before it is sent.
    rt::Task<StoredTx> replace(StoredTx t) {
        const auto now = co_await fees();
        U256 tip = bumped(t.priority_fee);
        tip = tip > now.priority_fee ? tip : now.priority_fee;
        U256 max_fee = bumped(t.max_fee);
        const U256 floor = now.max_fee - now.priority_fee + tip;  // twice the base, plus the tip
        max_fee = max_fee > floor ? max_fee : floor;
        const auto s = signVersion(t, max_fee, tip);
        const std::string old = eth::hex(t.hash);
        t.raw = s.raw;
        t.hash = s.hash;
        t.hashes.push_back(s.hash);
        t.max_fee = max_fee;
        t.priority_fee = tip;
        contracts::ChainTxChanged c;
        c.tx_id = t.id;
        c.purpose = t.purpose;
        c.reference = t.reference;
        c.signer = t.signer;
        c.nonce = t.nonce;
        c.hash = eth::hex(t.hash);
        c.replaced_hash = old;
        auto e = rt::makeEvent(std::string(contracts::ChainTxChanged::kReplaced),
                               std::string(contracts::kChainTxAggregate), t.id, c.data());
        co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await TxStore::replace(tx, t.id, t.raw, t.hash, max_fee, tip);
            co_await rt::enqueueEvent(tx, e);
        });
        changes.labels({"replaced"}).inc();
        rt::log::info("blockchain", "replaced a stuck transaction",
                      {{"tx", t.id},
                       {"nonce", std::to_string(t.nonce)},
                       {"old", old},
                       {"new", eth::hex(t.hash)}});
        co_return t;
    }

    rt::Task<void> confirm(const StoredTx& t) {
        const bool ok = t.receipt_status == 1;
        contracts::ChainTxChanged c;
        c.tx_id = t.id;
        c.purpose = t.purpose;
        c.reference = t.reference;
        c.signer = t.signer;
        c.nonce = t.nonce;
        c.hash = eth::hex(t.mined_hash);
        c.block_number = t.mined_block;
        c.contract_address = ok ? t.contract_address : std::string();
        const auto type =
            ok ? contracts::ChainTxChanged::kConfirmed : contracts::ChainTxChanged::kFailed;
        auto e = rt::makeEvent(std::string(type), std::string(contracts::kChainTxAggregate), t.id,
                               c.data());
        co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await TxStore::finish(tx, t.id, ok);
            co_await rt::enqueueEvent(tx, e);
        });
        changes.labels({ok ? "confirmed" : "failed"}).inc();
    }

    rt::Task<std::size_t> runOnce() {
        auto open = co_await TxStore::open(pool, key.address(), 200);
        if (open.empty()) {
            co_return 0;
        }
        const auto head = static_cast<std::int64_t>(co_await rpc.blockNumber());
        std::size_t changed = 0;
        for (auto& t : open) {
            if (t.state == "signed") {
                const bool sent = co_await send(t);
                if (sent) {
                    co_await TxStore::markSent(pool, t.id);
                    changes.labels({"sent"}).inc();
                    ++changed;
                }
                continue;  // its receipt next pass
            }
            if (t.state == "sent") {
                auto mined = co_await findReceipt(t);
                if (mined) {
                    co_await TxStore::markMined(pool, t.id, *mined);
                    changes.labels({"mined"}).inc();
                    ++changed;
                    t.state = "mined";
                    t.mined_hash = mined->hash;
                    t.mined_block = mined->block;
                    t.mined_block_hash = mined->block_hash;
                    t.receipt_status = mined->status;
                    t.contract_address = mined->contract_address;
                } else if (t.seconds_since_sent * 1000.0 >=
                           static_cast<double>(settings.replace_after.count())) {
                    auto replaced = co_await replace(t);
                    const bool sent = co_await send(replaced);
                    if (sent) {
                        co_await TxStore::markSent(pool, replaced.id);
                    }
                    ++changed;
                    continue;
                } else {
                    // The node may have dropped it (a restart): telling it again is harmless.
                    json::array params{json::value(eth::hex(t.hash))};
                    auto known = co_await rpc.call("eth_getTransactionByHash", std::move(params));
                    if (known.is_null()) {
                        co_await send(t);
                        changes.labels({"resent"}).inc();
                    }
                    continue;
                }
            }
            if (t.state == "mined") {
                auto block = co_await rpc.blockByNumber(U256(t.mined_block));
                if (!block || eth::bytesOf(*block, "hash") != t.mined_block_hash) {
                    co_await TxStore::unmine(pool, t.id);  // its block left the chain
                    changes.labels({"reorged"}).inc();
                    ++changed;
                    continue;
                }
                if (head - t.mined_block + 1 >= settings.confirmations) {
                    co_await confirm(t);
                    ++changed;
                }
            }
        }
        co_return changed;
    }

    rt::IoContext& io;
    rt::PgPool& pool;
    eth::RpcClient& rpc;
    eth::PrivateKey key;
    TxSettings settings;
    rt::Family<rt::Counter>& changes;
};

TxManager::TxManager(rt::IoContext& io, rt::PgPool& pool, eth::RpcClient& rpc, eth::PrivateKey key,
                     TxSettings settings, rt::MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(io, pool, rpc, std::move(key), std::move(settings), metrics)) {
    std::weak_ptr<Impl> weak = impl_;
    loop_ = std::make_unique<rt::PassLoop>(io, impl_->settings.poll, "blockchain",
                                           [weak]() -> rt::Task<bool> {
                                               auto self = weak.lock();
                                               if (!self) {
                                                   co_return false;
                                               }
                                               // Something moved: more may be due at once.
                                               co_return co_await self->runOnce() > 0;
                                           });
}

TxManager::~TxManager() {
    stop();
}

const eth::Address& TxManager::address() const {
    return impl_->key.address();
}

rt::Task<void> TxManager::init() {
    return impl_->init();
}

rt::Task<Fees> TxManager::fees() {
    return impl_->fees();
}

rt::Task<TxIntent> TxManager::prepare(TxIntent intent) {
    return impl_->prepare(std::move(intent));
}

rt::Task<StoredTx> TxManager::enqueue(rt::PgConn& tx, TxIntent intent, Fees fees) {
    return impl_->enqueue(tx, std::move(intent), fees);
}

void TxManager::wake() {
    loop_->wake();
}

void TxManager::start() {
    loop_->start();
}

void TxManager::stop() {
    loop_->stop();
}

rt::Task<std::size_t> TxManager::runOnce() {
    return impl_->runOnce();
}

}  // namespace restinu::blockchain
