#include "restinu/blockchain/service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "commands.hpp"
#include "deeds.hpp"
#include "identity_sync.hpp"
#include "indexer.hpp"
#include "investments.hpp"
#include "metadata.hpp"
#include "portfolio.hpp"
#include "rent.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pass_loop.hpp"
#include "restinu/rt/service_client.hpp"
#include "rpc.hpp"
#include "settings.hpp"
#include "tokenize.hpp"
#include "tx_manager.hpp"
#include "views.hpp"
#include "wallet_handlers.hpp"

/// The blockchain service (docs/blockchain.md): the platform's contracts, the transactions it
/// signs and sends, the indexer that follows the chain, wallets.
namespace restinu::blockchain {

namespace {

// Registers the signer once the node answers (it may start after the service), then sends.
rt::Task<void> startSending(TxManager& tx) {
    auto ex = co_await boost::asio::this_coro::executor;
    for (;;) {
        try {
            co_await tx.init();
            break;
        } catch (const std::exception& e) {
            rt::log::warn("blockchain", "the Ethereum node is not ready", {{"error", e.what()}});
        }
        boost::asio::steady_timer t(ex, std::chrono::seconds(2));
        co_await t.async_wait(boost::asio::use_awaitable);
    }
    tx.start();
}

// The flows' consumer of the service's own chain_tx events: each flow picks its purposes.
rt::Task<void> applyFlows(rt::PgConn& tx, const rt::Event& event) {
    co_await Tokenizer::applyChainTx(tx, event);
    co_await Investments::applyChainTx(tx, event);
}

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "blockchain";
    s.commands = operatorCommands();
    s.configure = [](rt::Config& c) {
        auto settings = std::make_shared<ChainSettings>(readChainSettings(c));
        auto wallets = std::make_shared<WalletSettings>(readWalletSettings(c));
        return rt::WireFn{[settings, wallets](rt::Shard& shard) {
            auto& rpc = shard.keep(std::make_unique<eth::RpcClient>(shard.http(), settings->rpc_url,
                                                                    settings->rpc_timeout));
            TxManager* tx = nullptr;
            if (settings->operator_key) {
                // Every shard can enqueue; the first one sends (one sender per key and
                // instance: the nonces are taken in the database, so instances never clash).
                tx = &shard.keep(std::make_unique<TxManager>(shard.io(), shard.pg(), rpc,
                                                             *settings->operator_key, settings->tx,
                                                             shard.metrics()));
                if (shard.index() == 0) {
                    boost::asio::co_spawn(shard.io(), startSending(*tx), boost::asio::detached);
                    // The identity registry follows KYC decisions and wallets.
                    // The loop owns the sync: it stays while a pass runs, even at shutdown.
                    auto sync = std::make_shared<IdentitySync>(shard.pg(), *tx);
                    shard
                        .keep(std::make_unique<rt::PassLoop>(
                            shard.io(), std::chrono::seconds(1), "blockchain",
                            [sync]() -> rt::Task<bool> { co_return co_await sync->runOnce() > 0; }))
                        .start();
                }
            }
            // The indexer: one per instance (its writes are idempotent, so several are safe).
            if (shard.index() == 0) {
                IndexerSettings is;
                is.confirmations = settings->tx.confirmations;
                shard
                    .keep(
                        std::make_unique<Indexer>(shard.io(), shard.pg(), rpc, is, shard.metrics()))
                    .start();
            }
            auto& metadata =
                settings->metadata_store == "ipfs"
                    ? shard.keep(ipfsMetadataStore(shard.http(), settings->ipfs_api_url))
                    : shard.keep(localMetadataStore(settings->metadata_dir));

            // Views of other services' events, and the flows' own chain_tx events.
            shard.consume("chain-listings", {"property"}, &applyListingEvent);
            shard.consume("chain-kyc", {"user"}, &applyKycEvent);

            auto& tokenizer = shard.keep(
                std::make_unique<Tokenizer>(shard.pg(), tx, metadata, settings->app_url));
            auto& r = shard.router();
            r.post("/api/v1/properties/{id}/tokenize", rt::Access::anyRole({"admin"}),
                   [&tokenizer](rt::Request& q) { return tokenizer.tokenize(q); });
            r.get("/api/v1/properties/{id}/tokenize", rt::Access::none(),
                  [&tokenizer](rt::Request& q) { return tokenizer.show(q); });
            addWalletRoutes(shard, *wallets);
            auto& portfolio = shard.keep(std::make_unique<Portfolio>(shard.pg(), rpc, tx));
            r.get("/api/v1/users/me/portfolio", rt::Access::authenticated(),
                  [&portfolio](rt::Request& q) { return portfolio.mine(q); });
            r.post("/api/v1/users/me/dividends/claim", rt::Access::authenticated(),
                   [&portfolio](rt::Request& q) { return portfolio.claim(q); });

            // Buying shares: the saga runs on every shard (its rows are leased, never shared).
            auto& payments = shard.keep(std::make_unique<rt::ServiceClient>(
                shard.http(), "payment", "blockchain", settings->payment_hosts,
                shard.settings().identity_secret, settings->payment_timeout));
            auto& investments = shard.keep(
                std::make_unique<Investments>(shard.pg(), tx, payments, InvestmentSettings{}));
            rt::PassLoop* saga = nullptr;
            if (tx != nullptr) {
                saga = &shard.keep(std::make_unique<rt::PassLoop>(
                    shard.io(), settings->investments_poll, "blockchain",
                    [&investments]() -> rt::Task<bool> {
                        co_return co_await investments.runOnce() > 0;
                    }));
                investments.onCreated([saga] { saga->wake(); });
                saga->start();
            }
            // The flows' own chain_tx events; a confirmed or reverted transfer wakes the saga.
            shard.consume("chain-flows", {std::string(contracts::kChainTxAggregate)}, &applyFlows,
                          [saga](const rt::Event&) {
                              if (saga != nullptr) {
                                  saga->wake();
                              }
                          });
            const auto signed_in = rt::Access::authenticated();
            r.post("/api/v1/investments", signed_in,
                   [&investments](rt::Request& q) { return investments.create(q); });
            r.get("/api/v1/investments", signed_in,
                  [&investments](rt::Request& q) { return investments.list(q); });
            r.get("/api/v1/investments/{id}", signed_in,
                  [&investments](rt::Request& q) { return investments.show(q); });
            auto& rent = shard.keep(std::make_unique<RentDeposits>(shard.pg(), tx));
            r.post("/api/v1/properties/{id}/rent", rt::Access::authenticated(),
                   [&rent](rt::Request& q) { return rent.deposit(q); });
            // The purchase saga's deed step (the payment service only).
            auto& deeds = shard.keep(std::make_unique<DeedTransfers>(shard.pg(), rpc, tx));
            r.post("/internal/v1/deeds/{id}/transfers", rt::Access::anyRole({"service"}),
                   [&deeds](rt::Request& q) { return deeds.transfer(q); });
            shard.addReadinessCheck("chain",
                                    [&rpc]() -> rt::Task<void> { co_await rpc.blockNumber(); });
        }};
    };
    return s;
}

}  // namespace restinu::blockchain
