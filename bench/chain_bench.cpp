// The blockchain service against a real anvil (automine) and a real PostgreSQL, issue 21's two
// numbers (bench/chain_bench.sh starts both on free loopback ports):
//
//   chain_bench transfers CONNINFO ANVIL_URL SOURCE_DIR [N] [BATCH] [CALLERS] [SECONDS]
//     Signed and confirmed ERC-20 transfers per second through our own TxManager, end to end:
//     on a fresh chain (anvil_reset) the PaymentToken is deployed and minted to a new signer,
//     then a stream of N transfer(address,uint256) calls arrives in batches of BATCH, each batch
//     enqueued by CALLERS concurrent callers as a flow step does it (prepare: eth_estimateGas;
//     fees: the head's base fee; then, in one database transaction, the nonce taken and the
//     signed bytes stored), while the sender runs runOnce() passes (send, receipt, confirm at
//     depth 1 with its chain.tx.confirmed event in the outbox) until every one is confirmed.
//     Timed from the first enqueue to the last confirmation. Run twice: on the database as
//     configured, then with synchronous_commit=off (what the commits' WAL flushes cost). The
//     reference: the same number of pre-signed transfers of the same token sent with
//     eth_sendRawTransaction alone, one after the other (no database, no receipts); and, as a
//     second one, each sent and its receipt awaited before the next (no database).
//
//   chain_bench indexer CONNINFO ANVIL_URL SOURCE_DIR [BLOCKS] [EVERY] [PER_BLOCK] [SECONDS]
//     The indexer's catch-up speed: the platform's contracts deployed (identity registry,
//     payment token, deed, a property's shares), then a chain of BLOCKS more blocks with one
//     share transfer per EVERY blocks: one block in PER_BLOCK * EVERY holds PER_BLOCK of them
//     (treasury to 4 investors in turn), one in 25 * PER_BLOCK * EVERY also a deed mint (whose
//     tokenURI the indexer reads at its block), and the rest are empty (anvil_mine). A fresh
//     database watches the three contracts from the registry's block; an Indexer with the shipped
//     settings (500 blocks a pass, events 12 deep) runs passes from nothing until it reaches the
//     head. The reference: reading the same headers (eth_getBlockByNumber, one at a time, as the
//     indexer does) and the same eth_getLogs in the same 500-block windows, no database; measured
//     before and after the indexer, averaged.
//
// Each mode creates its own database (the runtime's and the service's migrations) and stops by
// itself: past SECONDS it gives up with an error.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "abi.hpp"
#include "artifacts.hpp"
#include "chain_reader.hpp"
#include "indexer.hpp"
#include "indexer_store.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/migrate.hpp"
#include "restinu/rt/pg.hpp"
#include "rpc.hpp"
#include "transaction.hpp"
#include "tx_manager.hpp"

namespace {

namespace net = boost::asio;
namespace json = boost::json;
namespace rt = restinu::rt;
namespace bc = restinu::blockchain;
namespace eth = restinu::blockchain::eth;
namespace abi = restinu::blockchain::eth::abi;
using eth::U256;
using Clock = std::chrono::steady_clock;

// anvil's first development account: funds the bench's keys, and is the platform's operator
// in the indexer's chain.
constexpr std::string_view kDevKey0 =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const U256 kChainId = 31337;

// CHAIN_BENCH_VERBOSE=1: each step on stderr as it starts.
void step(const std::string& what) {
    static const bool on = std::getenv("CHAIN_BENCH_VERBOSE") != nullptr;
    if (on) {
        std::fprintf(stderr, "chain_bench: %s\n", what.c_str());
    }
}

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// A new database `<prefix>_<random>` with the runtime's and the blockchain service's
// migrations, as the service's `migrate` makes it.
std::string createDatabase(const std::string& conninfo, const std::string& prefix,
                           const std::string& source_dir) {
    std::mt19937_64 rng{std::random_device{}()};
    const auto name = prefix + "_" + std::to_string(rng() % 1000000000);
    rt::IoContext io;
    rt::PgOptions mo;
    mo.conninfo = conninfo + " dbname=postgres";
    mo.size = 1;
    rt::PgPool maintenance(io, mo);
    rt::runBlocking(io, rt::createDatabaseIfMissing(maintenance, name));
    maintenance.close();
    rt::PgOptions o;
    o.conninfo = conninfo + " dbname=" + name;
    o.size = 1;
    rt::PgPool pool(io, o);
    rt::MigrationSet ms;
    ms.addDir("runtime", source_dir + "/runtime/migrations");
    ms.addDir("blockchain", source_dir + "/services/blockchain/migrations");
    rt::runBlocking(io, rt::applyMigrations(pool, "blockchain", ms.list()));
    pool.close();
    return name;
}

// What anvil holds in its pool. Its automine leaves transactions that arrive while it mines
// there until the next one arrives; a real node's miners do not wait for that.
rt::Task<std::int64_t> pooled(eth::RpcClient* rpc) {
    json::array none;
    auto v = co_await rpc->call("txpool_status", std::move(none));
    const auto* o = v.if_object();
    if (o == nullptr) {
        co_return 0;
    }
    co_return static_cast<std::int64_t>(eth::quantityOf(*o, "pending"));
}

rt::Task<void> nudge(eth::RpcClient* rpc) {
    json::array none;
    co_await rpc->call("evm_mine", std::move(none));
}

// One loop thread with the node's client; blocking helpers for the set-up.
struct Node {
    Node(const std::string& url, double seconds)
        : http(std::make_unique<rt::HttpClient>(io, rt::ClientOptions{}, &metrics)),
          rpc(std::make_unique<eth::RpcClient>(*http, url)),
          deadline(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds))) {}

    template <class T>
    T run(rt::Task<T> t) {
        return rt::runBlocking(io, std::move(t));
    }
    json::value call(std::string method, json::array params = {}) {
        return run(rpc->call(std::move(method), std::move(params)));
    }
    void inTime(const char* what) const {
        if (Clock::now() > deadline) {
            throw std::runtime_error(std::string("out of time while ") + what);
        }
    }
    // JSON-RPC requests answered so far (the HTTP client's count).
    std::uint64_t requests() {
        return metrics.counter("restinu_http_client_requests_total", "", {"client", "outcome"})
            .labels({"default", "ok"})
            .value();
    }

    // Signs with `key` at `nonce` and sends; the transaction's hash.
    std::string send(const eth::PrivateKey& key, U256 nonce, std::optional<eth::Address> to,
                     std::string data, U256 gas, U256 value = 0) {
        eth::Eip1559Tx tx;
        tx.chain_id = kChainId;
        tx.nonce = nonce;
        tx.max_priority_fee_per_gas = 1'000'000'000;
        tx.max_fee_per_gas = *eth::parseDecimal("100000000000");
        tx.gas_limit = gas;
        tx.to = to;
        tx.value = value;
        tx.data = std::move(data);
        const auto s = eth::sign(tx, key);
        run(rpc->sendRawTransaction(s.raw));
        return s.hash;
    }
    // Waits for the receipt; throws if the transaction reverted.
    // Waits for the receipt (mining what anvil left in its pool after 20 ms); throws if the
    // transaction reverted.
    json::object receipt(const std::string& hash) {
        const auto t0 = Clock::now();
        for (;;) {
            auto r = run(rpc->receipt(hash));
            if (r) {
                if (eth::quantityOf(*r, "status") != 1) {
                    throw std::runtime_error("reverted: " + json::serialize(*r));
                }
                return *r;
            }
            inTime("waiting for a receipt");
            if (since(t0) > 0.02 && run(pooled(rpc.get())) > 0) {
                run(nudge(rpc.get()));
            }
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }
    json::object sendAndWait(const eth::PrivateKey& key, std::optional<eth::Address> to,
                             std::string data, U256 gas = 6'000'000, U256 value = 0) {
        const auto nonce = run(rpc->transactionCount(key.address(), "pending"));
        return receipt(send(key, nonce, to, std::move(data), gas, value));
    }
    std::int64_t head() { return bc::blockNumberOf(run(rpc->blockNumber())); }
    U256 viewUint(const eth::Address& contract, std::string_view sig,
                  const std::vector<abi::Value>& args) {
        auto out = run(rpc->callContract(contract, abi::encodeCall(sig, args), "latest"));
        return abi::decode({"uint256"}, out)[0].asUint();
    }

    rt::IoContext io;
    rt::MetricsRegistry metrics;
    std::unique_ptr<rt::HttpClient> http;
    std::unique_ptr<eth::RpcClient> rpc;
    Clock::time_point deadline;
};

std::unique_ptr<rt::PgPool> openPool(rt::IoContext& io, const std::string& conninfo,
                                     std::size_t size) {
    rt::PgOptions o;
    o.conninfo = conninfo;
    o.size = size;
    return std::make_unique<rt::PgPool>(io, o);
}

std::int64_t countOf(Node& node, rt::PgPool& pool, std::string sql, std::string arg) {
    auto r = node.run(pool.query(sql, std::move(arg)));
    return r.getInt(0, 0);
}

// ---- 1. transfers ------------------------------------------------------------------------

// One stream of transfers through one manager.
struct Stream {
    Stream(Node& n, rt::PgPool& p, bc::TxManager& manager, rt::MetricsRegistry& reg)
        : node(n), pool(p), m(manager), metrics(reg), wake(n.io), joined(n.io) {}

    bc::TxIntent intent(std::size_t i) const {
        bc::TxIntent t;
        t.purpose = "bench.transfer";
        t.reference = tag + "-" + std::to_string(i);
        t.to = token;
        t.data = abi::encodeCall(
            "transfer(address,uint256)",
            {abi::Value::address(recipients[i % recipients.size()]), abi::Value::uint(1)});
        return t;
    }
    std::uint64_t confirmed() {
        return metrics.counter("restinu_chain_transactions_total", "", {"outcome"})
            .labels({"confirmed"})
            .value();
    }

    Node& node;
    rt::PgPool& pool;
    bc::TxManager& m;
    rt::MetricsRegistry& metrics;
    std::string tag;
    eth::Address token;
    std::vector<eth::Address> recipients;
    std::size_t n = 0;
    std::size_t batch = 100;
    int callers = 4;
    std::chrono::milliseconds poll{1000};

    std::size_t next = 0;       // the next transfer to enqueue
    std::size_t batch_end = 0;  // the current batch's end
    int running = 0;            // callers still on the batch
    bool woken = false;
    std::uint64_t confirmed_before = 0;
    std::uint64_t passes = 0;
    std::uint64_t nudges = 0;  // evm_mine calls for transactions anvil left in its pool
    std::exception_ptr error;
    net::steady_timer wake;    // the sender's poll, cut short by a commit
    net::steady_timer joined;  // the feeder waits here for its callers
    Clock::time_point started, enqueued, finished;
};

// One caller: transfers of the current batch, one database transaction each, until none left.
rt::Task<void> caller(Stream* s) {
    try {
        while (s->next < s->batch_end && !s->error) {
            const auto i = s->next++;
            auto intent = s->intent(i);
            auto prepared = co_await s->m.prepare(std::move(intent));
            auto fees = co_await s->m.fees();
            std::function<rt::Task<void>(rt::PgConn&)> body =
                [s, &prepared, &fees](rt::PgConn& tx) -> rt::Task<void> {
                co_await s->m.enqueue(tx, prepared, fees);
            };
            co_await s->pool.transaction(std::move(body));
            s->woken = true;  // as a flow step calls wake() after its commit
            s->wake.cancel();
        }
    } catch (...) {
        if (!s->error) {
            s->error = std::current_exception();
        }
    }
    if (--s->running == 0) {
        s->joined.cancel();
    }
}

// The stream: batch after batch, each spread over the callers.
rt::Task<void> feed(Stream* s) {
    s->started = Clock::now();
    auto ex = s->node.io.get_executor();
    for (std::size_t start = 0; start < s->n && !s->error; start += s->batch) {
        s->batch_end = std::min(s->n, start + s->batch);
        s->running = s->callers;
        for (int c = 0; c < s->callers; ++c) {
            net::co_spawn(ex, caller(s), net::detached);
        }
        while (s->running > 0) {
            s->joined.expires_at(Clock::time_point::max());
            boost::system::error_code ec;
            co_await s->joined.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
    }
    if (s->error) {
        std::rethrow_exception(s->error);
    }
    s->enqueued = Clock::now();
}

// The sender, as TxManager's own loop runs it (passes back to back while they change
// something, else the poll, cut short by a commit), until every transfer is confirmed.
rt::Task<void> sender(Stream* s) {
    for (;;) {
        const auto changed = co_await s->m.runOnce();
        ++s->passes;
        if (s->confirmed() - s->confirmed_before >= s->n) {
            s->finished = Clock::now();
            co_return;
        }
        if (s->error) {
            co_return;
        }
        s->node.inTime("confirming the transfers");
        if (changed > 0 || s->woken) {
            s->woken = false;
            continue;
        }
        const auto stuck = co_await pooled(s->node.rpc.get());
        if (stuck > 0) {
            co_await nudge(s->node.rpc.get());
            ++s->nudges;
            continue;
        }
        s->wake.expires_after(s->poll);
        boost::system::error_code ec;
        co_await s->wake.async_wait(net::redirect_error(net::use_awaitable, ec));
        s->woken = false;
    }
}

struct StreamResult {
    double seconds = 0;
    double enqueue_seconds = 0;
    std::uint64_t passes = 0;
    std::uint64_t nudges = 0;
    std::uint64_t requests = 0;
};

StreamResult runStream(Stream& s) {
    s.confirmed_before = s.confirmed();
    const auto requests = s.node.requests();
    auto fed = net::co_spawn(s.node.io, feed(&s), net::use_future);
    auto sent = net::co_spawn(s.node.io, sender(&s), net::use_future);
    while (fed.wait_for(std::chrono::seconds(0)) != std::future_status::ready ||
           sent.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        s.node.io.restart();
        s.node.io.run_one();
    }
    fed.get();
    sent.get();
    if (s.error) {
        std::rethrow_exception(s.error);
    }
    // What it left: every transfer confirmed, each with its event.
    const auto like = s.tag + "-%";
    const auto confirmed =
        countOf(s.node, s.pool,
                "SELECT count(*) FROM chain_transactions WHERE purpose = 'bench.transfer' AND "
                "state = 'confirmed' AND reference LIKE $1",
                like);
    const auto events = countOf(
        s.node, s.pool,
        "SELECT count(*) FROM restinu_outbox o JOIN chain_transactions t ON o.aggregate_id = "
        "t.id::text WHERE o.type = 'chain.tx.confirmed' AND t.purpose = 'bench.transfer' AND "
        "t.reference LIKE $1",
        like);
    if (confirmed != static_cast<std::int64_t>(s.n) || events != static_cast<std::int64_t>(s.n)) {
        throw std::runtime_error("the stream left " + std::to_string(confirmed) +
                                 " confirmed transfers and " + std::to_string(events) +
                                 " events, wanted " + std::to_string(s.n));
    }
    StreamResult r;
    r.seconds = std::chrono::duration<double>(s.finished - s.started).count();
    r.enqueue_seconds = std::chrono::duration<double>(s.enqueued - s.started).count();
    r.passes = s.passes;
    r.nudges = s.nudges;
    r.requests = s.node.requests() - requests;
    return r;
}

struct RawResult {
    double seconds = 0;
    std::int64_t blocks = 0;  // mined while sending
    std::int64_t left = 0;    // still in anvil's pool at the end
};

// `n` transfers from `key`, signed first, then sent one after the other (and with `receipts`,
// each one's receipt awaited before the next is sent). Timed: the sending. Sent alone, most
// of them wait in anvil's pool: its automine takes what arrives while it mines only when the
// next one arrives, and a backlog flushed by evm_mine can leave it with a transaction it never
// includes (foundry-rs/foundry issue 10122), so the caller resets the chain after.
RawResult rawSends(Node& node, const eth::PrivateKey& key, const eth::Address& token,
                   const std::vector<eth::Address>& recipients, std::size_t n, const bc::Fees& fees,
                   bool receipts) {
    const auto first = node.run(node.rpc->transactionCount(key.address(), "pending"));
    std::vector<eth::SignedTx> signed_txs;
    for (std::size_t i = 0; i < n; ++i) {
        eth::Eip1559Tx tx;
        tx.chain_id = kChainId;
        tx.nonce = first + U256(i);
        tx.max_priority_fee_per_gas = fees.priority_fee;
        tx.max_fee_per_gas = fees.max_fee;
        tx.gas_limit = 100'000;
        tx.to = token;
        tx.data = abi::encodeCall(
            "transfer(address,uint256)",
            {abi::Value::address(recipients[i % recipients.size()]), abi::Value::uint(1)});
        signed_txs.push_back(eth::sign(tx, key));
    }
    const auto head = node.head();
    step("sending " + std::to_string(n) + " from block " + std::to_string(head));
    RawResult r;
    const auto t0 = Clock::now();
    for (const auto& t : signed_txs) {
        node.run(node.rpc->sendRawTransaction(t.raw));
        if (receipts) {
            node.receipt(t.hash);
        }
    }
    r.seconds = since(t0);
    r.blocks = node.head() - head;
    r.left = node.run(pooled(node.rpc.get()));
    step("sent; " + std::to_string(r.blocks) +
         " blocks; left in the pool: " + std::to_string(r.left));
    if (receipts) {
        node.receipt(signed_txs.back().hash);
    }
    return r;
}

int transfers(const std::string& conninfo, const std::string& url, const std::string& source_dir,
              std::size_t n, std::size_t batch, int callers, double seconds) {
    Node node(url, seconds);
    const auto db = createDatabase(conninfo, "bench_chain_tx", source_dir);
    auto pool = openPool(node.io, conninfo + " dbname=" + db, 8);  // the pool's default size
    // The same database, commits not waiting for their WAL flush.
    auto async_pool =
        openPool(node.io, conninfo + " dbname=" + db + " options='-c synchronous_commit=off'", 8);
    const auto dev = *eth::PrivateKey::parse(kDevKey0);
    std::vector<eth::Address> recipients;
    for (int i = 0; i < 50; ++i) {
        recipients.push_back(eth::PrivateKey::generate().address());
    }
    bc::TxSettings settings;
    settings.chain_id = kChainId;
    settings.confirmations = 1;

    // Each run on a fresh chain (anvil_reset): anvil gets slower as its chain grows (a block
    // at height 5,000 takes several times as long as one at 500), so every run starts alike.
    // A new signer funded by development account 0, and the PaymentToken minted to it.
    struct Fresh {
        eth::PrivateKey signer;
        eth::Address token;
    };
    auto fresh = [&] {
        node.call("anvil_reset", {});
        Fresh f{eth::PrivateKey::generate(), {}};
        node.sendAndWait(dev, f.signer.address(), "", 21000,
                         *eth::parseDecimal("100000000000000000000"));
        auto r = node.sendAndWait(
            dev, std::nullopt,
            bc::artifacts::creation(
                "PaymentToken", {"string", "string", "address", "address"},
                {abi::Value::bytes("REST-iN-U Rupee"), abi::Value::bytes("rINR"),
                 abi::Value::address(dev.address()), abi::Value::address(dev.address())}));
        f.token = *eth::Address::parse(std::string(r.at("contractAddress").as_string()));
        node.sendAndWait(
            dev, f.token,
            abi::encodeCall("mint(address,uint256)",
                            {abi::Value::address(f.signer.address()), abi::Value::uint(n * 10)}));
        return f;
    };
    // Every transfer landed: n units spread over the recipients.
    auto landed = [&](const eth::Address& token) {
        U256 total = 0;
        for (const auto& r : recipients) {
            total += node.viewUint(token, "balanceOf(address)", {abi::Value::address(r)});
        }
        if (total != U256(n)) {
            throw std::runtime_error("the recipients hold " + eth::decimal(total) +
                                     " units, wanted " + std::to_string(n));
        }
    };
    auto stream = [&](rt::PgPool& p, const char* tag) {
        auto f = fresh();
        rt::MetricsRegistry metrics;
        bc::TxManager m(node.io, p, *node.rpc, f.signer, settings, metrics);
        node.run(m.init());
        Stream s(node, p, m, metrics);
        s.tag = tag;
        s.token = f.token;
        s.recipients = recipients;
        s.n = n;
        s.batch = batch;
        s.callers = callers;
        s.poll = settings.poll;
        auto r = runStream(s);
        landed(f.token);
        return r;
    };
    step("the stream");
    const auto ours = stream(*pool, "durable");
    step("the stream, synchronous_commit=off");
    const auto ours_async = stream(*async_pool, "async");

    // The references: the same transfers, signed beforehand with the fees the manager would
    // use, sent one after the other, each waiting for its receipt (what a pass needs, without
    // the database); then sent alone.
    step("the references: with receipts");
    auto f = fresh();
    rt::MetricsRegistry unused;
    bc::TxManager fee_source(node.io, *pool, *node.rpc, f.signer, settings, unused);
    const auto fees = node.run(fee_source.fees());
    const auto raw_receipts = rawSends(node, f.signer, f.token, recipients, n, fees, true);
    landed(f.token);
    step("the references: eth_sendRawTransaction only");
    f = fresh();
    const auto raw = rawSends(node, f.signer, f.token, recipients, n, fees, false);
    node.call("anvil_reset", {});  // anvil's backlog (see rawSends) goes with the chain

    const double ours_rate = static_cast<double>(n) / ours.seconds;
    const double async_rate = static_cast<double>(n) / ours_async.seconds;
    const double raw_rate = static_cast<double>(n) / raw.seconds;
    const double receipts_rate = static_cast<double>(n) / raw_receipts.seconds;
    std::printf(
        "%zu PaymentToken transfer(address,uint256) from one signer to 50 holders; "
        "batches of %zu, each enqueued by %d concurrent callers; confirmations 1\n",
        n, batch, callers);
    std::printf(
        "  %-58s %8.1f transfers/s  (%.1f s; enqueued in %.1f s; %llu passes; %.1f "
        "RPCs per transfer; %llu evm_mine nudges)\n",
        "TxManager, enqueue -> sent -> receipt -> confirmed", ours_rate, ours.seconds,
        ours.enqueue_seconds, static_cast<unsigned long long>(ours.passes),
        static_cast<double>(ours.requests) / static_cast<double>(n),
        static_cast<unsigned long long>(ours.nudges));
    std::printf(
        "  %-58s %8.1f transfers/s  (%.1f s; enqueued in %.1f s; %llu passes; %llu "
        "nudges)\n",
        "the same, synchronous_commit=off", async_rate, ours_async.seconds,
        ours_async.enqueue_seconds, static_cast<unsigned long long>(ours_async.passes),
        static_cast<unsigned long long>(ours_async.nudges));
    std::printf(
        "  %-58s %8.1f transfers/s  (%.2f s; %lld blocks mined meanwhile, %lld left in "
        "anvil's pool)\n",
        "reference: pre-signed, eth_sendRawTransaction only", raw_rate, raw.seconds,
        static_cast<long long>(raw.blocks), static_cast<long long>(raw.left));
    std::printf("  %-58s %8.1f transfers/s  (%.2f s; %lld blocks)\n",
                "pre-signed, each sent and its receipt awaited, no database", receipts_rate,
                raw_receipts.seconds, static_cast<long long>(raw_receipts.blocks));
    std::printf(
        "  ratio TxManager/raw node: %.3fx (synchronous_commit=off: %.3fx; against "
        "send + receipt: %.3fx)\n",
        ours_rate / raw_rate, async_rate / raw_rate, ours_rate / receipts_rate);
    std::printf("transfers_per_second %.1f\nraw_per_second %.1f\n", ours_rate, raw_rate);
    pool->close();
    async_pool->close();
    return 0;
}

// ---- 2. the indexer ----------------------------------------------------------------------

struct Platform {
    eth::Address registry, payment, deed, shares;
    std::int64_t first_block = 0;
};

std::pair<eth::Address, std::int64_t> deploy(Node& node, const eth::PrivateKey& op,
                                             const std::string& name,
                                             const std::vector<std::string>& types,
                                             const std::vector<abi::Value>& args) {
    auto r = node.sendAndWait(op, std::nullopt, bc::artifacts::creation(name, types, args));
    return {*eth::Address::parse(std::string(r.at("contractAddress").as_string())),
            static_cast<std::int64_t>(eth::quantityOf(r, "blockNumber"))};
}

struct ChainMix {
    std::int64_t transfers = 0;
    std::int64_t mints = 0;
    std::int64_t blocks = 0;
    double seconds = 0;
};

// The reference: headers one at a time and the logs in the indexer's windows, no database.
double readOnly(Node& node, const std::vector<std::string>& addresses, std::int64_t from,
                std::int64_t to, std::int64_t window, std::int64_t& logs) {
    const auto t0 = Clock::now();
    logs = 0;
    for (std::int64_t start = from; start <= to; start += window) {
        const auto end = std::min(to, start + window - 1);
        for (std::int64_t b = start; b <= end; ++b) {
            if (!node.run(bc::readHeader(*node.rpc, b))) {
                throw std::runtime_error("the node has no block " + std::to_string(b));
            }
        }
        logs += static_cast<std::int64_t>(
            node.run(bc::readLogs(*node.rpc, addresses, start, end)).size());
        node.inTime("reading the chain");
    }
    return since(t0);
}

int indexer(const std::string& conninfo, const std::string& url, const std::string& source_dir,
            std::int64_t blocks, std::int64_t every, std::int64_t per_block, double seconds) {
    Node node(url, seconds);
    node.call("anvil_reset", {});  // a fresh chain
    const auto db = createDatabase(conninfo, "bench_chain_idx", source_dir);
    auto pool = openPool(node.io, conninfo + " dbname=" + db, 8);
    const auto op = *eth::PrivateKey::parse(kDevKey0);
    const auto treasury = eth::PrivateKey::generate();
    node.call("anvil_setBalance", {json::value(treasury.address().lower()),
                                   json::value("0x56bc75e2d63100000")});  // 100 ETH
    std::vector<eth::Address> investors;
    for (int i = 0; i < 4; ++i) {
        investors.push_back(eth::PrivateKey::generate().address());
    }
    // The platform as deployed (the timelock's place taken by a throwaway admin).
    const auto admin = eth::PrivateKey::generate().address();
    Platform p;
    std::tie(p.registry, p.first_block) =
        deploy(node, op, "IdentityRegistry", {"address", "address"},
               {abi::Value::address(admin), abi::Value::address(op.address())});
    p.payment = deploy(node, op, "PaymentToken", {"string", "string", "address", "address"},
                       {abi::Value::bytes("REST-iN-U Rupee"), abi::Value::bytes("rINR"),
                        abi::Value::address(admin), abi::Value::address(op.address())})
                    .first;
    p.deed = deploy(node, op, "PropertyDeed", {"string", "string", "address", "address"},
                    {abi::Value::bytes("REST-iN-U Property Deed"), abi::Value::bytes("DEED"),
                     abi::Value::address(admin), abi::Value::address(op.address())})
                 .first;
    std::vector<eth::Address> holders = investors;
    holders.push_back(treasury.address());
    for (const auto& a : holders) {
        node.sendAndWait(op, p.registry,
                         abi::encodeCall("registerIdentity(address)", {abi::Value::address(a)}));
    }
    const std::string property_id(16, '\x8f');
    p.shares =
        deploy(node, op, "PropertyShares",
               {"string", "string", "bytes32", "uint256", "uint256", "address", "address",
                "address", "address", "address"},
               {abi::Value::bytes("Sea View shares"), abi::Value::bytes("RIU-SV"),
                abi::Value::bytes(property_id + std::string(16, '\0')), abi::Value::uint(100000),
                abi::Value::uint(250000), abi::Value::address(treasury.address()),
                abi::Value::address(p.registry), abi::Value::address(p.payment),
                abi::Value::address(admin), abi::Value::address(op.address())})
            .first;

    // The chain: PER_BLOCK * EVERY blocks at a time, the first holding PER_BLOCK share
    // transfers from the treasury to the investors in turn (every 25th time a deed mint too),
    // the rest empty; mined on demand (anvil_mine), as few calls as that takes, since anvil
    // gets slower per call as its chain grows.
    ChainMix mix;
    const auto t_build = Clock::now();
    node.call("evm_setAutomine", {json::value(false)});
    U256 op_nonce = node.run(node.rpc->transactionCount(op.address(), "pending"));
    U256 treasury_nonce = node.run(node.rpc->transactionCount(treasury.address(), "pending"));
    const std::int64_t start_head = node.head();
    const std::int64_t target = p.first_block + blocks;
    std::string last_hash;
    std::int64_t mined = start_head;
    for (std::int64_t seg = 0; mined < target; ++seg) {
        for (std::int64_t j = 0; j < per_block; ++j) {
            const auto& to = investors[static_cast<std::size_t>(mix.transfers) % investors.size()];
            last_hash = node.send(treasury, treasury_nonce, p.shares,
                                  abi::encodeCall("transfer(address,uint256)",
                                                  {abi::Value::address(to), abi::Value::uint(1)}),
                                  200'000);
            treasury_nonce += 1;
            ++mix.transfers;
        }
        if (seg % 25 == 12) {
            node.send(
                op, op_nonce, p.deed,
                abi::encodeCall("mint(address,uint256,string)",
                                {abi::Value::address(investors[0]),
                                 abi::Value::uint(static_cast<std::uint64_t>(seg)),
                                 abi::Value::bytes("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf"
                                                   "3oclgtqy55fbzdi/" +
                                                   std::to_string(seg))}),
                500'000);
            op_nonce += 1;
            ++mix.mints;
        }
        const auto k = std::min(every * per_block, target - mined);
        node.call("anvil_mine", {json::value(eth::quantity(U256(static_cast<std::uint64_t>(k))))});
        mined += k;
        node.inTime("building the chain");
    }
    node.call("evm_setAutomine", {json::value(true)});
    node.receipt(last_hash);
    const std::int64_t head = node.head();
    mix.blocks = head - start_head;
    mix.seconds = since(t_build);
    U256 moved = 0;
    for (const auto& a : investors) {
        moved += node.viewUint(p.shares, "balanceOf(address)", {abi::Value::address(a)});
    }
    if (moved != U256(static_cast<std::uint64_t>(mix.transfers))) {
        throw std::runtime_error("a share transfer did not go through");
    }

    // The indexer, from nothing: the three contracts watched from the registry's block.
    std::function<rt::Task<void>(rt::PgConn&)> watch = [&p](rt::PgConn& tx) -> rt::Task<void> {
        co_await bc::IndexerStore::watch(tx, p.registry.lower(), bc::ContractKind::Registry,
                                         std::nullopt, p.first_block);
        co_await bc::IndexerStore::watch(tx, p.deed.lower(), bc::ContractKind::Deed,
                                         std::string("8f14e45f-ceea-467a-9c4e-4e2a7c1b0d31"),
                                         p.first_block);
        co_await bc::IndexerStore::watch(tx, p.shares.lower(), bc::ContractKind::Shares,
                                         std::string("8f14e45f-ceea-467a-9c4e-4e2a7c1b0d31"),
                                         p.first_block);
    };
    node.run(pool->transaction(std::move(watch)));
    const bc::IndexerSettings settings;  // shipped: 500 blocks a pass, events 12 deep
    const std::vector<std::string> addresses{p.registry.lower(), p.deed.lower(), p.shares.lower()};
    std::int64_t ref_logs = 0;
    const double ref_before =
        readOnly(node, addresses, p.first_block, head, settings.batch_blocks, ref_logs);

    rt::MetricsRegistry metrics;
    bc::Indexer ix(node.io, *pool, *node.rpc, settings, metrics);
    bc::IndexerPass all;
    int passes = 0;
    const auto requests = node.requests();
    const auto t0 = Clock::now();
    for (;;) {
        auto pass = node.run(ix.runOnce());
        ++passes;
        all.blocks += pass.blocks;
        all.logs += pass.logs;
        all.duplicates += pass.duplicates;
        all.events += pass.events;
        all.rolled_back += pass.rolled_back;
        if (!pass.behind) {
            break;
        }
        node.inTime("indexing");
    }
    const double ix_seconds = since(t0);
    const auto ix_requests = node.requests() - requests;
    const double ref_after =
        readOnly(node, addresses, p.first_block, head, settings.batch_blocks, ref_logs);
    const double ref_seconds = (ref_before + ref_after) / 2;

    auto tip = node.run(bc::IndexerStore::tip(*pool));
    if (!tip || tip->number != head || all.rolled_back != 0) {
        throw std::runtime_error("the indexer stopped at " +
                                 std::to_string(tip ? tip->number : -1) + ", the head is " +
                                 std::to_string(head));
    }
    const std::int64_t indexed = head - p.first_block + 1;
    // Every share transfer (and the shares' mint at deployment) stored once.
    const auto shares_rows =
        countOf(node, *pool, "SELECT count(*) FROM chain_share_transfers WHERE contract = $1",
                p.shares.lower());
    if (all.blocks != indexed || shares_rows != mix.transfers + 1) {
        throw std::runtime_error("the indexer stored " + std::to_string(all.blocks) +
                                 " blocks and " + std::to_string(shares_rows) +
                                 " share transfers, wanted " + std::to_string(indexed) + " and " +
                                 std::to_string(mix.transfers + 1));
    }

    const double rate = static_cast<double>(indexed) / ix_seconds;
    const double ref_rate = static_cast<double>(indexed) / ref_seconds;
    std::printf(
        "chain: blocks %lld-%lld (%lld), watched: identity registry, deed, shares; built "
        "in %.1f s: %lld share transfers (%lld in one block of %lld), %lld deed mints, the "
        "rest empty; %lld logs of the watched contracts, of which the indexer keeps %lld (%lld "
        "share "
        "transfers)\n",
        static_cast<long long>(p.first_block), static_cast<long long>(head),
        static_cast<long long>(indexed), mix.seconds, static_cast<long long>(mix.transfers),
        static_cast<long long>(per_block), static_cast<long long>(every * per_block),
        static_cast<long long>(mix.mints), static_cast<long long>(ref_logs),
        static_cast<long long>(all.logs), static_cast<long long>(shares_rows));
    std::printf(
        "  %-58s %8.0f blocks/s %7.0f logs/s  (%.2f s; %d passes; logs kept; %lld events "
        "written; %.2f RPCs per block)\n",
        "Indexer from nothing to the head (500 blocks a pass)", rate,
        static_cast<double>(all.logs) / ix_seconds, ix_seconds, passes,
        static_cast<long long>(all.events),
        static_cast<double>(ix_requests) / static_cast<double>(indexed));
    std::printf(
        "  %-58s %8.0f blocks/s %7.0f logs/s  (%.2f s; logs read; before %.2f s, after "
        "%.2f s)\n",
        "reference: the same headers + eth_getLogs, no database", ref_rate,
        static_cast<double>(ref_logs) / ref_seconds, ref_seconds, ref_before, ref_after);
    std::printf("  ratio Indexer/reading alone: %.2fx\n", rate / ref_rate);
    std::printf("blocks_per_second %.0f\nreference_blocks_per_second %.0f\n", rate, ref_rate);
    pool->close();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        rt::log::init("chain_bench", "", rt::log::Level::Warn);
        const std::string mode = argc > 1 ? argv[1] : "";
        auto arg = [&](int i, const char* fallback) {
            return std::string(argc > i ? argv[i] : fallback);
        };
        if (mode == "transfers" && argc >= 5) {
            return transfers(argv[2], argv[3], argv[4], std::stoul(arg(5, "2000")),
                             std::stoul(arg(6, "100")), std::stoi(arg(7, "4")),
                             std::stod(arg(8, "240")));
        }
        if (mode == "indexer" && argc >= 5) {
            return indexer(argv[2], argv[3], argv[4], std::stoll(arg(5, "10000")),
                           std::stoll(arg(6, "5")), std::stoll(arg(7, "4")),
                           std::stod(arg(8, "240")));
        }
        std::fprintf(stderr,
                     "usage: chain_bench transfers CONNINFO ANVIL_URL SOURCE_DIR [N] [BATCH] "
                     "[CALLERS] [SECONDS]\n"
                     "       chain_bench indexer CONNINFO ANVIL_URL SOURCE_DIR [BLOCKS] [EVERY] "
                     "[PER_BLOCK] [SECONDS]\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chain_bench: %s\n", e.what());
        return 1;
    }
}
