#include "commands.hpp"

#include <cstdio>

#include "platform.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/pg.hpp"
#include "rpc.hpp"
#include "settings.hpp"
#include "tx_manager.hpp"

namespace restinu::blockchain {
namespace {

int deploy(const std::vector<std::string>& args, rt::Config& config,
           const rt::RuntimeSettings& runtime) {
    if (!args.empty()) {
        std::fputs(
            "usage: restinu blockchain deploy\n"
            "  deploys the platform's contracts (timelock, identity registry, payment token,\n"
            "  deed) from chain.operator_key, once; run again, it goes on where it stopped\n",
            stderr);
        return 2;
    }
    auto settings = readChainSettings(config);
    if (!config.problems().empty()) {
        for (const auto& p : config.problems()) {
            std::fprintf(stderr, "config: %s\n", p.c_str());
        }
        return 2;
    }
    if (!settings.operator_key) {
        std::fputs("chain.operator_key (or chain.operator_key_file) is required to deploy\n",
                   stderr);
        return 2;
    }
    return rt::withOneConnection(runtime.pg_conninfo, "deploy", [&](auto& io, rt::PgPool& pool) {
        rt::HttpClient http(io);
        eth::RpcClient rpc(http, settings.rpc_url, settings.rpc_timeout);
        rt::MetricsRegistry metrics;
        TxManager tx(io, pool, rpc, *settings.operator_key, settings.tx, metrics);
        try {
            rt::runBlocking(io, tx.init());
            const auto p =
                rt::runBlocking(io, deployPlatform(pool, tx, settings, [](const std::string& line) {
                                    std::printf("deploy: %s\n", line.c_str());
                                    std::fflush(stdout);
                                }));
            const auto op = tx.address().checksummed();
            const auto gov = settings.governance->checksummed();
            std::printf(
                "\nwho holds what (docs/blockchain.md, \"Contracts and roles\"):\n"
                "  timelock          %s  DEFAULT_ADMIN_ROLE of every contract; delay %lld s\n"
                "  governance        %s  the timelock's proposer and executor\n"
                "  operator          %s  registrar (deed), agent (registry, shares), distributor,"
                " pauser, minter; the treasury\n"
                "  identity registry %s\n"
                "  payment token     %s\n"
                "  deed              %s\n",
                p.timelock.checksummed().c_str(),
                static_cast<long long>(settings.timelock_delay.count()), gov.c_str(), op.c_str(),
                p.registry.checksummed().c_str(), p.payment_token.checksummed().c_str(),
                p.deed.checksummed().c_str());
            return 0;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "deploy failed: %s\n", e.what());
            return 1;
        }
    });
}

int status(const std::vector<std::string>&, rt::Config&, const rt::RuntimeSettings& runtime) {
    return rt::withOneConnection(runtime.pg_conninfo, "status", [&](auto& io, rt::PgPool& pool) {
        auto r = rt::runBlocking(
            io, pool.query("SELECT state, count(*) FROM chain_transactions WHERE $1 = $1 "
                           "GROUP BY state ORDER BY state",
                           "x"));
        auto platform = rt::runBlocking(io, loadPlatform(pool));
        std::printf("platform: %s\n",
                    platform ? "deployed" : "not deployed (restinu blockchain deploy)");
        for (std::size_t i = 0; i < r.rows(); ++i) {
            std::printf("transactions %-9s %s\n", std::string(r.get(i, 0)).c_str(),
                        std::string(r.get(i, 1)).c_str());
        }
        return 0;
    });
}

}  // namespace

std::vector<rt::ServiceCommand> operatorCommands() {
    return {
        {"deploy", "deploy the platform's contracts (once; resumable)", &deploy},
        {"status", "the platform's contracts and the transactions by state", &status},
    };
}

}  // namespace restinu::blockchain
