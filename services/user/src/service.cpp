#include "restinu/user/service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>

#include "auth_handlers.hpp"
#include "key_ring.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::user {
namespace {

struct Settings {
    std::string issuer;
    std::string audience;
    std::chrono::seconds access_ttl{900};
    AuthSettings auth;
};

// One shard's state: its key ring (loaded from the database at start) and its handlers.
struct ShardState {
    KeyRing keys;
    AuthHandlers handlers;
    bool keys_loaded = false;

    ShardState(rt::Shard& shard, const Settings& s)
        : keys(s.issuer, s.audience, s.access_ttl),
          handlers(shard.pg(), shard.workers(), keys, s.auth) {}
};

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "user";
    s.database = "users_db";
    s.default_port = 8101;
    s.configure = [](rt::Config& config) -> rt::WireFn {
        auto settings = std::make_shared<Settings>();
        settings->issuer = config.str("auth.issuer", "restinu");
        settings->audience = config.str("auth.audience", "restinu-api");
        settings->access_ttl = std::chrono::duration_cast<std::chrono::seconds>(
            config.duration("auth.access_ttl", std::chrono::minutes(15)));
        settings->auth.refresh_ttl = std::chrono::duration_cast<std::chrono::hours>(
            config.duration("auth.refresh_ttl", std::chrono::hours(24 * 30)));
        return [settings](rt::Shard& shard) {
            auto& st = shard.keep(std::make_unique<ShardState>(shard, *settings));
            boost::asio::co_spawn(
                shard.io(),
                [&st, &shard]() -> rt::Task<void> {
                    co_await st.keys.load(shard.pg());
                    st.keys_loaded = true;
                },
                [](const std::exception_ptr& e) {
                    if (e) {
                        try {
                            std::rethrow_exception(e);
                        } catch (const std::exception& ex) {
                            rt::log::error("user", "cannot load signing keys",
                                           {{"error", ex.what()}});
                        }
                    }
                });
            shard.addReadinessCheck("signing_keys", [&st]() -> rt::Task<void> {
                if (!st.keys_loaded) {
                    throw std::runtime_error("signing keys not loaded yet");
                }
                co_return;
            });
            // Until the keys are loaded, token routes answer 503 rather than crash.
            auto guarded = [&st](rt::Task<rt::Response> (AuthHandlers::*fn)(rt::Request&)) {
                return [&st, fn](rt::Request& req) -> rt::Task<rt::Response> {
                    if (!st.keys_loaded) {
                        throw rt::ApiError(rt::Problem{rt::problems::kUnavailable,
                                                       "starting up; try again in a second",
                                                       {},
                                                       {{"Retry-After", "1"}}});
                    }
                    co_return co_await (st.handlers.*fn)(req);
                };
            };
            auto& r = shard.router();
            r.post("/api/v1/auth/register", guarded(&AuthHandlers::registerUser));
            r.post("/api/v1/auth/login", guarded(&AuthHandlers::login));
            r.post("/api/v1/auth/refresh", guarded(&AuthHandlers::refresh));
            r.post("/api/v1/auth/logout", guarded(&AuthHandlers::logout));
            r.get("/api/v1/users/me", guarded(&AuthHandlers::me));
            r.get("/api/v1/users/me/sessions", guarded(&AuthHandlers::sessions));
            r.del("/api/v1/users/me/sessions/{id}", guarded(&AuthHandlers::revokeSession));
            r.get("/.well-known/jwks.json", guarded(&AuthHandlers::jwks));
        };
    };
    return s;
}

}  // namespace restinu::user
