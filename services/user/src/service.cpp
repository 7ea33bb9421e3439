#include "restinu/user/service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "account_handlers.hpp"
#include "auth_handlers.hpp"
#include "commands.hpp"
#include "handler_support.hpp"
#include "key_ring.hpp"
#include "kyc_handlers.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "user_store.hpp"

namespace restinu::user {
namespace {

namespace net = boost::asio;

struct Settings {
    std::string issuer;
    std::string audience;
    std::chrono::seconds access_ttl{900};
    std::chrono::milliseconds key_reload{30'000};
    AuthSettings auth;
    std::optional<KycVault> vault;
    std::optional<KeyVault> key_vault;
};

// The key-encryption key of the signing keys (key_vault.hpp): required, like the KYC key.
std::optional<KeyVault> readKeyVault(rt::Config& config) {
    auto current = config.str("auth.key_encryption_key");
    auto previous = config.list("auth.previous_key_encryption_keys", std::vector<std::string>{});
    if (current.empty()) {
        return std::nullopt;  // config.str has reported the missing key
    }
    std::string why;
    auto vault = KeyVault::fromBase64(current, previous, &why);
    if (!vault) {
        config.reject("auth.key_encryption_key", why);
    }
    return vault;
}

// One shard's state: its key ring (loaded from the database at start, reloaded every
// auth.key_reload so a rotation reaches every instance) and its handlers.
struct ShardState {
    KeyRing keys;
    AuthHandlers auth;
    AccountHandlers accounts;
    KycHandlers kyc;
    bool keys_loaded = false;

    ShardState(rt::Shard& shard, const Settings& s)
        : keys(s.issuer, s.audience, s.access_ttl, *s.key_vault),
          auth(shard.pg(), shard.workers(), keys, s.auth),
          accounts(shard.pg()),
          kyc(shard.pg(), *s.vault) {}
};

rt::Task<void> keepKeysLoaded(ShardState& st, rt::Shard& shard, std::chrono::milliseconds every) {
    net::steady_timer timer(shard.io());
    for (;;) {
        try {
            co_await st.keys.load(shard.pg());
            st.keys_loaded = true;
        } catch (const std::exception& e) {
            // Keep serving with the keys we have; a first load retries every second.
            rt::log::error("user", "cannot load signing keys", {{"error", e.what()}});
        }
        timer.expires_after(st.keys_loaded ? every : std::chrono::milliseconds(1000));
        co_await timer.async_wait(net::use_awaitable);
    }
}

// `restinu user create-admin --email E` (password on standard input) and
// `restinu user rotate-key [--activate-in SECONDS]`: a private pool on this thread.
template <class Fn>
int withDatabase(const rt::RuntimeSettings& settings, Fn fn) {
    return rt::withOneConnection(settings.pg_conninfo, "cli", std::move(fn));
}

int createAdminCommand(const std::vector<std::string>& args, rt::Config& config,
                       const rt::RuntimeSettings& settings) {
    std::string email;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--email" && i + 1 < args.size()) {
            email = args[++i];
        } else {
            std::fprintf(stderr, "usage: restinu user create-admin --email E < password-file\n");
            return 2;
        }
    }
    if (email.empty()) {
        std::fprintf(stderr, "restinu user create-admin: --email is required\n");
        return 2;
    }
    config.check();
    auto password = readPasswordLine(std::cin);
    return withDatabase(settings, [&](net::io_context& io, rt::PgPool& pool) {
        std::string why;
        auto result = rt::runBlocking(io, createAdmin(pool, email, password, why));
        switch (result) {
            case CreateAdminResult::Created:
                std::printf("created admin %s\n", email.c_str());
                return 0;
            case CreateAdminResult::Exists:
                std::fprintf(stderr, "restinu user create-admin: %s already has an account\n",
                             email.c_str());
                return 3;
            case CreateAdminResult::BadEmail:
            case CreateAdminResult::WeakPassword:
                std::fprintf(stderr, "restinu user create-admin: %s\n", why.c_str());
                return 2;
        }
        return 1;
    });
}

int rotateKeyCommand(const std::vector<std::string>& args, rt::Config& config,
                     const rt::RuntimeSettings& settings) {
    // Longer than every instance's reload interval and the gateway's JWKS cache.
    auto reload = std::chrono::duration_cast<std::chrono::seconds>(
        config.duration("auth.key_reload", std::chrono::seconds(30)));
    std::chrono::seconds activate_in = 3 * reload;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--activate-in" && i + 1 < args.size()) {
            activate_in = std::chrono::seconds(std::stoll(args[++i]));
        } else {
            std::fprintf(stderr, "usage: restinu user rotate-key [--activate-in SECONDS]\n");
            return 2;
        }
    }
    auto vault = readKeyVault(config);
    config.check();
    return withDatabase(settings, [&](net::io_context& io, rt::PgPool& pool) {
        auto kid = rt::runBlocking(io, rotateSigningKey(pool, *vault, activate_in));
        std::printf(
            "new signing key %s signs in %llds; the current key is published until its "
            "last tokens expire\n",
            kid.c_str(), static_cast<long long>(activate_in.count()));
        return 0;
    });
}

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "user";
    s.commands = {
        {"create-admin", "create an admin account; the password is read from standard input",
         &createAdminCommand},
        {"rotate-key", "add a new access-token signing key (activates after a delay)",
         &rotateKeyCommand},
    };
    s.configure = [](rt::Config& config) -> rt::WireFn {
        auto settings = std::make_shared<Settings>();
        settings->issuer = config.str("auth.issuer", "restinu");
        settings->audience = config.str("auth.audience", "restinu-api");
        settings->access_ttl = std::chrono::duration_cast<std::chrono::seconds>(
            config.duration("auth.access_ttl", std::chrono::minutes(15)));
        settings->auth.refresh_ttl = std::chrono::duration_cast<std::chrono::hours>(
            config.duration("auth.refresh_ttl", std::chrono::hours(24 * 30)));
        settings->key_reload = config.duration("auth.key_reload", std::chrono::seconds(30));
        auto& throttle = settings->auth.throttle;
        throttle.per_account_and_address.free_failures = static_cast<int>(
            config.integer("auth.login_throttle.free_failures_per_account", 3, 1, 1000));
        throttle.per_address.free_failures = static_cast<int>(
            config.integer("auth.login_throttle.free_failures_per_address", 20, 1, 100000));
        settings->key_vault = readKeyVault(config);
        auto key = config.str("kyc.encryption_key");
        if (!key.empty()) {
            std::string why;
            settings->vault = KycVault::fromBase64(key, &why);
            if (!settings->vault) {
                config.reject("kyc.encryption_key", why);
            }
        }
        return [settings](rt::Shard& shard) {
            auto& st = shard.keep(std::make_unique<ShardState>(shard, *settings));
            net::co_spawn(shard.io(), keepKeysLoaded(st, shard, settings->key_reload),
                          [](const std::exception_ptr&) {});
            shard.addReadinessCheck("signing_keys", [&st]() -> rt::Task<void> {
                if (!st.keys_loaded) {
                    throw std::runtime_error("signing keys not loaded yet");
                }
                co_return;
            });
            // Until the keys are loaded, every route answers 503 rather than guess.
            auto guarded = [&st](auto* handlers, auto fn) {
                return [&st, handlers, fn](rt::Request& req) -> rt::Task<rt::Response> {
                    if (!st.keys_loaded) {
                        throw rt::ApiError(rt::Problem{rt::problems::kUnavailable,
                                                       "starting up; try again in a second",
                                                       {},
                                                       {{"Retry-After", "1"}}});
                    }
                    co_return co_await (handlers->*fn)(req);
                };
            };
            auto* auth = &st.auth;
            auto* acc = &st.accounts;
            auto* kyc = &st.kyc;
            auto& r = shard.router();
            // A request straight to the service (tests, operators) may carry a bearer token
            // instead of the gateway's identity: verified here, it becomes the caller.
            r.use([&st](rt::Request& req, const rt::Handler& next) -> rt::Task<rt::Response> {
                if (!req.identity && req.hasHeader("Authorization")) {
                    auto caller = authenticate(st.keys.verifier(), req);
                    req.identity = rt::Identity{caller.user_id, {caller.role}, caller.session_id};
                }
                return next(req);
            });
            // Admin rights come from the database, not the token (a demoted admin loses them at
            // once); the handlers that write check again inside their transaction.
            r.setRoleSource([&shard](rt::Request& req) -> rt::Task<std::vector<std::string>> {
                UserStore users(shard.pg());
                auto role = co_await users.role(req.identity->user_id);
                std::vector<std::string> roles;
                if (role) {
                    roles.push_back(std::move(*role));
                }
                req.identity->roles = roles;
                co_return roles;
            });
            const auto anyone = rt::Access::none();
            const auto signed_in = rt::Access::authenticated();
            const auto admin = rt::Access::anyRole({"admin"});
            r.post("/api/v1/auth/register", anyone, guarded(auth, &AuthHandlers::registerUser));
            r.post("/api/v1/auth/login", anyone, guarded(auth, &AuthHandlers::login));
            r.post("/api/v1/auth/refresh", anyone, guarded(auth, &AuthHandlers::refresh));
            r.post("/api/v1/auth/logout", anyone, guarded(auth, &AuthHandlers::logout));
            r.get("/api/v1/users/me", signed_in, guarded(acc, &AccountHandlers::me));
            r.patch("/api/v1/users/me", signed_in, guarded(acc, &AccountHandlers::updateMe));
            r.get("/api/v1/users/me/sessions", signed_in, guarded(auth, &AuthHandlers::sessions));
            r.del("/api/v1/users/me/sessions/{id}", signed_in,
                  guarded(auth, &AuthHandlers::revokeSession));
            r.get("/api/v1/users/me/kyc", signed_in, guarded(kyc, &KycHandlers::mine));
            r.post("/api/v1/users/me/kyc", signed_in, guarded(kyc, &KycHandlers::submit));
            r.get("/api/v1/users/{id}/profile", anyone,
                  guarded(acc, &AccountHandlers::publicProfile));
            r.get("/api/v1/admin/users", admin, guarded(acc, &AccountHandlers::listUsers));
            r.patch("/api/v1/admin/users/{id}", admin, guarded(acc, &AccountHandlers::changeRole));
            r.get("/api/v1/admin/kyc", admin, guarded(kyc, &KycHandlers::list));
            r.post("/api/v1/admin/kyc/{user_id}/approve", admin,
                   guarded(kyc, &KycHandlers::approve));
            r.post("/api/v1/admin/kyc/{user_id}/reject", admin, guarded(kyc, &KycHandlers::reject));
            r.get("/.well-known/jwks.json", anyone, guarded(auth, &AuthHandlers::jwks));
            // The notification service tells when a verification link was followed.
            shard.consume("user-email-verification", {"notification"},
                          [](rt::PgConn& tx, const rt::Event& event) -> rt::Task<void> {
                              if (event.type != contracts::EmailVerified::kType) {
                                  co_return;
                              }
                              const auto v = contracts::EmailVerified::parse(event.data);
                              co_await UserStore::markEmailVerified(tx, v.user_id, v.email);
                          });
        };
    };
    return s;
}

}  // namespace restinu::user
