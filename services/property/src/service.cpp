#include "restinu/property/service.hpp"

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <memory>

#include "listing_handlers.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "user_roles.hpp"

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

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "property";
    s.commands = {
        {"rebuild-read-model", "rebuild the search read model from the listings", &rebuildCommand},
    };
    s.configure = [](rt::Config&) {
        return rt::WireFn{[](rt::Shard& shard) {
            auto& h = shard.keep(std::make_unique<ListingHandlers>(shard.pg(), shard.pgRead()));
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
            // The search projection: every instance in one group shares the events.
            shard.consume("property-search", {"property"}, &applyToReadModel);
            // Users' current roles, for admin and agent rights (user_roles.hpp).
            shard.consume("property-user-roles", {"user"}, &applyUserRole);
        }};
    };
    return s;
}

}  // namespace restinu::property
