#include "token_stage.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/service.hpp"

namespace restinu::gateway {

namespace net = boost::asio;

TokenStage::TokenStage(rt::Shard& shard, const Settings& settings, TokenKeys& keys)
    : shard_(shard), settings_(settings), keys_(keys), timer_(shard.io()) {
    auto& m = shard.metrics();
    refused_ =
        &m.counter("restinu_gateway_token_rejections_total", "Bearer tokens refused with 401", {})
             .labels({});
    limited_ =
        &m.counter("restinu_gateway_rate_limited_total", "Requests refused with 429", {"policy"})
             .labels({"all"});
    auto threads = std::max(1, shard.settings().threads);
    budget_policy_ =
        RatePolicy{"token-checks", settings.token_checks_per_minute, std::chrono::seconds(60)};
    budget_share_ = (settings.token_checks_per_minute + threads - 1) / threads;
}

std::optional<TokenCache::Claims> TokenStage::cached(const rt::Request& req) {
    auto bearer = bearerToken(req.header("Authorization"));
    if (!bearer) {
        return TokenCache::Claims{};  // anonymous
    }
    auto claims = cache_.find(*bearer, rt::unixSeconds());
    if (!claims) {
        return std::nullopt;
    }
    return claims;
}

std::string TokenStage::callerKey(const TokenCache::Claims& claims, const rt::Request& req) {
    return claims ? "u:" + claims->subject : "ip:" + req.client_ip;
}

rt::Task<Caller> TokenStage::check(const rt::Request& req) {
    // A token not seen before costs an ECDSA check (and a log line if bad): each address gets
    // a budget of them, spent before the check.
    auto budget = budget_.check(budget_policy_, budget_share_, req.client_ip, rt::unixMillis());
    if (!budget.allowed) {
        limited_->inc();
        auto after = std::to_string(budget.reset_s);
        co_return rt::Problem{
            rt::problems::kRateLimited,
            "too many new access tokens from this address; retry after " + after + "s",
            {},
            {{"Retry-After", after}}};
    }
    std::string token(bearerToken(req.header("Authorization")).value_or(""));
    auto now = rt::unixSeconds();
    std::string why;
    auto claims = keys_.verifier.verify(token, now, &why);
    if (!claims && why.rfind("unknown kid", 0) == 0 && keys_.gate.tryAcquire(rt::unixMillis())) {
        // A key we do not know yet (rotation) or have never loaded: one fetch, then again.
        co_await refreshJwks();
        claims = keys_.verifier.verify(token, rt::unixSeconds(), &why);
    }
    if (claims) {
        co_return cache_.put(token, std::move(*claims), now);
    }
    if (!keys_.keys_loaded) {
        co_return rt::Problem{rt::problems::kUnavailable,
                              "access tokens cannot be checked right now",
                              {},
                              {{"Retry-After", "1"}}};
    }
    // The reason may quote the token's own header (its kid): at most 120 bytes of it.
    if (why.size() > 120) {
        why.resize(120);
        why += "...";
    }
    rt::log::info("auth", "refused a bearer token", {{"error", why}});
    refused_->inc();
    co_return rt::Problem{rt::problems::kUnauthorized,
                          "the access token is not valid",
                          {},
                          {{"WWW-Authenticate", "Bearer error=\"invalid_token\""}}};
}

rt::Task<bool> TokenStage::refreshJwks() {
    auto it = settings_.upstreams.find("user");
    if (it == settings_.upstreams.end()) {
        co_return false;
    }
    for (const auto& up : it->second) {
        rt::ClientRequest r;
        r.host = up.host;
        r.port = up.port;
        r.target = "/.well-known/jwks.json";
        r.timeout = std::chrono::milliseconds(2000);
        std::string error;
        rt::ClientResponse res;
        try {
            res = co_await shard_.http().request(r);
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (error.empty() && res.status != 200) {
            error = "status " + std::to_string(res.status);
        }
        if (error.empty()) {
            try {
                auto pems = rt::publicPemsFromJwks(res.body);
                if (pems.empty()) {
                    error = "no ES256 key in the JWKS";
                } else {
                    auto count = pems.size();
                    keys_.verifier.setKeys(std::move(pems));
                    if (!keys_.keys_loaded.exchange(true)) {
                        rt::log::info("auth", "JWKS loaded",
                                      {{"upstream", up.text()}, {"keys", count}});
                    }
                    co_return true;
                }
            } catch (const std::exception& e) {
                error = e.what();
            }
        }
        rt::log::warn("auth", "JWKS fetch failed", {{"upstream", up.text()}, {"error", error}});
    }
    co_return false;
}

rt::Task<void> TokenStage::refreshLoop() {
    while (!stopped_) {
        bool ok = co_await refreshJwks();
        // Until the first success, retry every second; then follow rotation periodically.
        auto wait = ok ? settings_.jwks_refresh : std::chrono::milliseconds(1000);
        timer_.expires_after(wait);
        boost::system::error_code ec;
        co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
    }
}

void TokenStage::stop() {
    stopped_ = true;
    timer_.cancel();
}

}  // namespace restinu::gateway
