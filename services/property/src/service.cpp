#include "restinu/property/service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <memory>

#include "cached_answers.hpp"
#include "image_handlers.hpp"
#include "listing_handlers.hpp"
#include "purchase_steps.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/redis.hpp"
#include "restinu/rt/worker_pool.hpp"
#include "search_index.hpp"
#include "token_sync.hpp"
#include "user_roles.hpp"
#include "vastu_handlers.hpp"

namespace restinu::property {
namespace {

namespace net = boost::asio;

// `restinu property rebuild-read-model`: the search table from the write model, at once.
int rebuildCommand(const std::vector<std::string>& args, rt::Config& config,
                   const rt::RuntimeSettings& settings) {
    if (!args.empty()) {
        std::fprintf(stderr, "usage: restinu property rebuild-read-model [--config FILE]\n");
        return 2;
    }
    config.check();
    std::int64_t n = 0;
    auto started = std::chrono::steady_clock::now();
    rt::withOneConnection(settings.pg_conninfo, "cli", [&n](auto& io, rt::PgPool& pool) {
        rt::runBlocking(io, pool.transaction([&n](rt::PgConn& tx) -> rt::Task<void> {
            n = co_await rebuildReadModel(tx);
        }));
    });
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("rebuilt the search read model: %lld listings in %.1fs\n",
                static_cast<long long>(n), secs);
    return 0;
}

rt::Task<void> loadIndex(search::MemoryIndex& index, rt::PgPool& pool) {
    const auto started = std::chrono::steady_clock::now();
    try {
        co_await index.catchUp(pool);
    } catch (const std::exception& e) {
        // The first search tries again; until then searches go to PostgreSQL.
        rt::log::warn("property", "search index load failed", {{"error", e.what()}});
        co_return;
    }
    const auto secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    rt::log::info("property", "search index loaded",
                  {{"listings", static_cast<std::int64_t>(index.size())}, {"seconds", secs}});
}

rt::Task<void> invalidateAfterProjection(rt::Cache& cache, std::string listing_id) {
    co_await cache.invalidate(std::string(kSearchGroup));
    co_await cache.invalidate(listingKey(listing_id));
}

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "property";
    s.commands = {
        {"rebuild-read-model", "rebuild the search read model from the listings", &rebuildCommand},
    };
    s.configure = [](rt::Config& c) {
        auto database = c.str("pg.database", std::string(registry::find("property")->database));
        auto caching = readCacheSettings(c, database);
        auto photos = readImageSettings(c);
        auto vastu_signer = readVastuSigner(c);
        // One pool of photo workers for the process (every loop thread's uploads share it).
        auto photo_workers = std::make_shared<rt::WorkerPool>(
            static_cast<std::size_t>(photos.threads), static_cast<std::size_t>(photos.queue_limit));
        const bool in_memory =
            c.oneOf("search.engine", "memory", {"memory", "database"}) == "memory";
        return rt::WireFn{[caching, in_memory, photos, photo_workers,
                           vastu_signer](rt::Shard& shard) {
            rt::RedisOptions redis;
            redis.host = shard.settings().redis_host;
            redis.port = shard.settings().redis_port;
            auto& cache = shard.keep(std::make_unique<rt::Cache>(
                shard.io(), shard.redis(), redis, caching.options, &shard.metrics()));
            cache.start();
            search::MemoryIndex* index = nullptr;
            if (in_memory) {
                // Loaded at start (ready once it holds the read model), then kept up to date.
                index = &shard.keep(std::make_unique<search::MemoryIndex>());
                net::co_spawn(shard.io(), loadIndex(*index, shard.pgRead()), net::detached);
                // Not ready until loaded; a load that failed (the database blinked) is tried
                // again by the next probe, since no search reaches an instance not ready.
                auto& pool = shard.pgRead();
                auto& io = shard.io();
                shard.addReadinessCheck("search-index", [index, &pool, &io]() -> rt::Task<void> {
                    if (!index->loaded()) {
                        if (!index->busy()) {
                            net::co_spawn(io, loadIndex(*index, pool), net::detached);
                        }
                        throw std::runtime_error("the search index is still loading");
                    }
                    co_return;
                });
            }
            auto& h = shard.keep(std::make_unique<ListingHandlers>(shard.pg(), shard.pgRead(),
                                                                   cache, caching.policy, index));
            auto& r = shard.router();
            // Agent and admin rights as the user service's events say now (user_roles.hpp).
            r.setRoleSource([&shard](rt::Request& req) -> rt::Task<std::vector<std::string>> {
                auto who = co_await currentRoles(shard.pg(), *req.identity);
                req.identity->roles = who.roles;
                co_return who.roles;
            });
            // Reading is open (drafts only to their owner and admins, decided by the handler);
            // changing a listing needs its owner or an admin, also decided by the handler.
            const auto anyone = rt::Access::none();
            const auto signed_in = rt::Access::authenticated();
            r.post("/api/v1/properties", rt::Access::anyRole({"agent", "admin"}),
                   [&h](rt::Request& req) { return h.create(req); });
            r.get("/api/v1/properties", anyone, [&h](rt::Request& req) { return h.search(req); });
            r.get("/api/v1/properties/{id}", anyone, [&h](rt::Request& req) { return h.get(req); });
            r.patch("/api/v1/properties/{id}", signed_in,
                    [&h](rt::Request& req) { return h.update(req); });
            r.del("/api/v1/properties/{id}", signed_in,
                  [&h](rt::Request& req) { return h.withdraw(req); });
            r.get("/api/v1/users/me/listings", signed_in,
                  [&h](rt::Request& req) { return h.mine(req); });
            addImageRoutes(shard, cache, photos, *photo_workers);
            addVastuRoutes(shard, cache, vastu_signer);
            // The purchase saga's steps on a listing: the payment service only (never forwarded
            // by the gateway; the handler checks the caller is the payment service).
            auto& steps = shard.keep(std::make_unique<PurchaseSteps>(shard.pg(), cache));
            r.post("/internal/v1/listings/{id}/purchase-steps", rt::Access::anyRole({"service"}),
                   [&steps](rt::Request& req) { return steps.apply(req); });
            // The search projection: every instance in one group shares the events. Once the
            // read model has a change, no instance answers a search or the listing from before.
            auto& io = shard.io();
            shard.consume("property-search", {"property"}, &applyToReadModel,
                          [&cache, &io](const rt::Event& e) {
                              net::co_spawn(io, invalidateAfterProjection(cache, e.aggregate_id),
                                            net::detached);
                          });
            // A tokenized listing's deed and shares, from the blockchain service.
            shard.consume("property-tokens", {std::string(contracts::kTokenizationAggregate)},
                          &applyTokenized);
            // Users' current roles, for admin and agent rights (user_roles.hpp).
            shard.consume("property-user-roles", {"user"}, &applyUserRole);
        }};
    };
    return s;
}

}  // namespace restinu::property
