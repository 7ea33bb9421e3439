#include "restinu/sandbox/service.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <memory>

#include "book.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/problem.hpp"
#include "stripe_provider.hpp"

namespace restinu::sandbox {
namespace {

namespace net = boost::asio;
namespace json = boost::json;

struct Settings {
    std::string secret_key;
    std::string webhook_url;  ///< empty: no webhooks
    std::string webhook_secret;
    std::chrono::milliseconds slow_delay{5'000};
};

rt::Response stripeAnswer(const Answer& a) {
    return rt::Response::json(a.status, a.body);
}

rt::Response unauthorised() {
    return rt::Response::json(
        401, R"({"error":{"type":"invalid_request_error","code":"api_key_invalid",)"
             R"("message":"Invalid API Key provided."}})");
}

class Sandbox {
public:
    Sandbox(rt::Shard& shard, Book& book, const Settings& settings)
        : shard_(shard), book_(book), settings_(settings) {}

    bool authorised(const rt::Request& req) const {
        const auto want = "Bearer " + settings_.secret_key;
        return req.header("Authorization") == want;
    }

    // A POST: the key's first answer again, or the operation, remembered under its key.
    // `op` by value: the coroutine starts after the caller's temporaries are gone.
    rt::Task<rt::Response> post(
        rt::Request& req,
        std::function<Answer(const std::map<std::string, std::string>&, std::vector<Webhook>&)>
            op) {
        if (!authorised(req)) {
            co_return unauthorised();
        }
        auto form = parseForm(req.body);
        if (!form) {
            co_return stripeAnswer({400,
                                    R"({"error":{"type":"invalid_request_error",)"
                                    R"("code":"parameter_invalid","message":"bad form"}})",
                                    {}});
        }
        const std::string key(req.header("Idempotency-Key"));
        const std::string fingerprint =
            rt::sha256Hex(std::string(req.path) + "\n" + std::string(req.body));
        Answer answer;
        if (auto first = book_.replay(key, fingerprint)) {
            answer = *first;
        } else {
            std::vector<Webhook> sent;
            answer = op(*form, sent);
            book_.remember(key, fingerprint, answer);
            for (auto& w : sent) {
                deliver(std::move(w));
            }
        }
        if (answer.delay.count() > 0) {
            net::steady_timer timer(co_await net::this_coro::executor, answer.delay);
            co_await timer.async_wait(net::use_awaitable);
        }
        co_return stripeAnswer(answer);
    }

    void deliver(Webhook w) {
        if (settings_.webhook_url.empty()) {
            return;
        }
        net::co_spawn(shard_.io(), send(std::move(w)), net::detached);
    }

    rt::Task<void> send(Webhook w) {
        try {
            auto [host, port] = payment::parseHttpUrl(hostPort());
            rt::ClientRequest req;
            req.method = rt::Method::Post;
            req.host = host;
            req.port = port;
            req.target = path();
            req.body = w.payload;
            req.timeout = std::chrono::seconds(5);
            req.headers = {
                {"Content-Type", "application/json"},
                {"Stripe-Signature",
                 payment::stripeSignature(w.payload, settings_.webhook_secret, rt::unixSeconds())}};
            auto res = co_await shard_.http().request(req);
            if (res.status >= 300) {
                rt::log::warn("sandbox", "webhook refused",
                              {{"event", w.id}, {"status", static_cast<std::int64_t>(res.status)}});
            }
        } catch (const std::exception& e) {
            rt::log::warn("sandbox", "webhook not delivered",
                          {{"event", w.id}, {"error", e.what()}});
        }
    }

    Book& book() { return book_; }

private:
    // webhook_url is http://host:port/path.
    std::string hostPort() const {
        const auto slash = settings_.webhook_url.find('/', 7);
        return settings_.webhook_url.substr(0, slash);
    }
    std::string path() const {
        const auto slash = settings_.webhook_url.find('/', 7);
        return slash == std::string::npos ? "/" : settings_.webhook_url.substr(slash);
    }

    rt::Shard& shard_;
    Book& book_;
    const Settings& settings_;
};

}  // namespace

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "sandbox";
    s.configure = [](rt::Config& c) {
        auto settings = std::make_shared<Settings>();
        settings->secret_key = c.str("sandbox.secret_key", "sk_test_sandbox");
        settings->webhook_url = c.str("sandbox.webhook_url", "");
        settings->webhook_secret = c.str("sandbox.webhook_secret", "whsec_sandbox");
        settings->slow_delay = c.duration("sandbox.slow_delay", std::chrono::seconds(5));
        if (!settings->webhook_url.empty()) {
            try {
                const auto slash = settings->webhook_url.find('/', 7);
                payment::parseHttpUrl(settings->webhook_url.substr(0, slash));
            } catch (const std::exception& e) {
                c.reject("sandbox.webhook_url", e.what());
            }
        }
        // One record for the whole process, shared by its loop threads.
        auto book = std::make_shared<Book>(settings->slow_delay);
        return rt::WireFn{[settings, book](rt::Shard& shard) {
            auto& sb = shard.keep(std::make_unique<Sandbox>(shard, *book, *settings));
            auto& r = shard.router();
            const auto anyone = rt::Access::none();
            r.post("/v1/payment_intents", anyone, [&sb](rt::Request& req) {
                return sb.post(req, [&sb](const auto& form, auto& sent) {
                    return sb.book().create(form, sent);
                });
            });
            r.post("/v1/payment_intents/{id}/capture", anyone, [&sb](rt::Request& req) {
                std::string id(req.param("id"));
                return sb.post(req, [&sb, id](const auto& form, auto& sent) {
                    return sb.book().capture(id, form, sent);
                });
            });
            r.post("/v1/payment_intents/{id}/cancel", anyone, [&sb](rt::Request& req) {
                std::string id(req.param("id"));
                return sb.post(
                    req, [&sb, id](const auto&, auto& sent) { return sb.book().cancel(id, sent); });
            });
            r.post("/v1/refunds", anyone, [&sb](rt::Request& req) {
                return sb.post(req, [&sb](const auto& form, auto& sent) {
                    return sb.book().refund(form, sent);
                });
            });
            r.get("/v1/payment_intents", anyone, [&sb](rt::Request& req) -> rt::Task<rt::Response> {
                if (!sb.authorised(req)) {
                    co_return unauthorised();
                }
                std::size_t limit = 10;
                if (auto l = req.queryParam("limit")) {
                    limit = static_cast<std::size_t>(std::clamp(std::atoi(l->c_str()), 1, 100));
                }
                co_return stripeAnswer(
                    sb.book().list(limit, req.queryParam("starting_after").value_or("")));
            });
            r.get(
                "/v1/payment_intents/search", anyone,
                [&sb](rt::Request& req) -> rt::Task<rt::Response> {
                    if (!sb.authorised(req)) {
                        co_return unauthorised();
                    }
                    co_return stripeAnswer(sb.book().search(req.queryParam("query").value_or("")));
                });
            r.get("/v1/payment_intents/{id}", anyone,
                  [&sb](rt::Request& req) -> rt::Task<rt::Response> {
                      if (!sb.authorised(req)) {
                          co_return unauthorised();
                      }
                      co_return stripeAnswer(sb.book().get(std::string(req.param("id"))));
                  });
            // Tests: send every webhook again, newest first (twice, and out of order).
            r.post("/sandbox/redeliver", anyone, [&sb](rt::Request& req) -> rt::Task<rt::Response> {
                if (!sb.authorised(req)) {
                    co_return unauthorised();
                }
                auto all = sb.book().webhooks();
                std::reverse(all.begin(), all.end());
                const auto n = static_cast<std::int64_t>(all.size());
                for (auto& w : all) {
                    sb.deliver(std::move(w));
                }
                co_return rt::Response::json(200,
                                             json::serialize(json::object{{"redelivered", n}}));
            });
        }};
    };
    return s;
}

}  // namespace restinu::sandbox
