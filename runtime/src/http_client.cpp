#include "restinu/rt/http_client.hpp"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <deque>
#include <map>

#include "restinu/rt/metrics.hpp"

namespace restinu::rt {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto kTok = net::as_tuple(net::use_awaitable);

bool idempotent(Method m) {
    return m == Method::Get || m == Method::Head || m == Method::Put || m == Method::Delete ||
           m == Method::Options;
}
}  // namespace

std::string_view ClientResponse::header(std::string_view name) const {
    const auto* v = findHeader(headers, name);
    return v != nullptr ? std::string_view{*v} : std::string_view{};
}

struct HttpClient::Impl {
    struct Idle {
        std::unique_ptr<beast::tcp_stream> stream;
        std::chrono::steady_clock::time_point since;
    };
    using Key = std::pair<std::string, std::uint16_t>;

    net::io_context& io;
    ClientOptions opts;
    std::map<Key, std::deque<Idle>> idle;
    std::uint64_t opened = 0;
    Counter* ok = nullptr;
    Counter* failed = nullptr;
    Histogram* duration = nullptr;

    Impl(net::io_context& io_, ClientOptions o, MetricsRegistry* m) : io(io_), opts(std::move(o)) {
        if (m != nullptr) {
            auto& c =
                m->counter("restinu_http_client_requests_total",
                           "Outgoing HTTP requests, by client and outcome", {"client", "outcome"});
            ok = &c.labels({opts.name, "ok"});
            failed = &c.labels({opts.name, "error"});
            duration = &m->histogram("restinu_http_client_request_duration_seconds",
                                     "Outgoing HTTP request time in seconds", {"client"})
                            .labels({opts.name});
        }
    }

    // An idle keep-alive connection the server has closed meanwhile reads as end-of-stream
    // (or has unexpected bytes); peeking without blocking tells, before a request is lost on it.
    static bool alive(beast::tcp_stream& s) {
        if (!s.socket().is_open()) {
            return false;
        }
        char c = 0;
        auto n = ::recv(s.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    std::unique_ptr<beast::tcp_stream> takeIdle(const Key& key) {
        auto it = idle.find(key);
        if (it == idle.end()) {
            return nullptr;
        }
        auto now = std::chrono::steady_clock::now();
        while (!it->second.empty()) {
            auto entry = std::move(it->second.back());
            it->second.pop_back();
            if (now - entry.since < opts.idle_timeout && alive(*entry.stream)) {
                return std::move(entry.stream);
            }
        }
        return nullptr;
    }

    void putIdle(const Key& key, std::unique_ptr<beast::tcp_stream> s) {
        auto& q = idle[key];
        if (q.size() >= opts.max_idle_per_host) {
            return;  // dropping closes it
        }
        s->expires_never();
        q.push_back(Idle{std::move(s), std::chrono::steady_clock::now()});
    }

    Task<std::unique_ptr<beast::tcp_stream>> connect(
        const ClientRequest& req, std::chrono::steady_clock::time_point deadline) {
        tcp::resolver resolver(io);
        auto [rec, results] = co_await resolver.async_resolve(
            req.host, std::to_string(req.port), net::ip::resolver_base::numeric_service, kTok);
        if (rec) {
            throw HttpClientError(HttpClientError::Kind::Connect,
                                  "cannot resolve " + req.host + ": " + rec.message());
        }
        auto stream = std::make_unique<beast::tcp_stream>(io);
        auto connect_deadline =
            std::min(deadline, std::chrono::steady_clock::now() + opts.connect_timeout);
        stream->expires_at(connect_deadline);
        auto [ec, ep] = co_await stream->async_connect(results, kTok);
        if (ec) {
            // A connect that timed out sent nothing either: it is a Connect error, so a caller
            // (the gateway) may safely try another instance.
            throw HttpClientError(HttpClientError::Kind::Connect,
                                  "cannot connect to " + req.host + ":" + std::to_string(req.port) +
                                      ": " + ec.message());
        }
        boost::system::error_code ignored;
        stream->socket().set_option(tcp::no_delay(true), ignored);
        ++opened;
        co_return stream;
    }

    // One attempt on `stream`. Returns the error code and whether any response byte arrived.
    Task<std::pair<boost::system::error_code, bool>> exchange(
        beast::tcp_stream& stream, http::request<http::string_body>& msg,
        std::chrono::steady_clock::time_point deadline, ClientResponse& out) {
        stream.expires_at(deadline);
        auto [wec, wn] = co_await http::async_write(stream, msg, kTok);
        if (wec) {
            co_return std::pair{wec, false};
        }
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(opts.max_response_body);
        if (msg.method() == http::verb::head) {
            parser.skip(true);
        }
        auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kTok);
        if (rec) {
            co_return std::pair{rec, rn > 0 || buffer.size() > 0};
        }
        auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        out.keep_alive = res.keep_alive();
        out.headers.clear();
        for (const auto& f : res) {
            out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        }
        out.body = std::move(res.body());
        co_return std::pair{boost::system::error_code{}, true};
    }
};

HttpClient::HttpClient(IoContext& io, ClientOptions opts, MetricsRegistry* metrics)
    : impl_(std::make_shared<Impl>(io, std::move(opts), metrics)) {}

HttpClient::~HttpClient() = default;

Task<ClientResponse> HttpClient::request(ClientRequest req) {
    auto impl = impl_;
    auto started = std::chrono::steady_clock::now();
    auto deadline = started + req.timeout;
    http::request<http::string_body> msg{http::string_to_verb(methodName(req.method)), req.target,
                                         11};
    msg.set(http::field::host, req.host + ":" + std::to_string(req.port));
    for (const auto& [k, v] : req.headers) {
        msg.insert(k, v);
    }
    msg.keep_alive(true);
    if (!req.body.empty() || req.method == Method::Post || req.method == Method::Put ||
        req.method == Method::Patch) {
        msg.body() = req.body;
        msg.prepare_payload();
    }
    Impl::Key key{req.host, req.port};
    ClientResponse out;
    auto fail = [&](HttpClientError::Kind kind, const std::string& what) {
        if (impl->failed != nullptr) {
            impl->failed->inc();
        }
        return HttpClientError(kind, what);
    };
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto stream = impl->takeIdle(key);
        bool reused = stream != nullptr;
        if (!stream) {
            try {
                stream = co_await impl->connect(req, deadline);
            } catch (const HttpClientError& e) {
                throw fail(e.kind(), e.what());
            }
        }
        auto [ec, got_bytes] = co_await impl->exchange(*stream, msg, deadline, out);
        if (!ec) {
            if (out.keep_alive) {
                impl->putIdle(key, std::move(stream));
            }
            if (impl->ok != nullptr) {
                impl->ok->inc();
                impl->duration->observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                        .count());
            }
            co_return out;
        }
        std::string where = req.host + ":" + std::to_string(req.port) + req.target;
        if (ec == beast::error::timeout) {
            throw fail(HttpClientError::Kind::Timeout, "no answer from " + where + " in time");
        }
        bool stale = reused && !got_bytes &&
                     (ec == http::error::end_of_stream || ec == net::error::connection_reset ||
                      ec == net::error::broken_pipe || ec == net::error::eof);
        if (stale && attempt == 0 && idempotent(req.method)) {
            continue;  // the server closed a pooled connection meanwhile: try a fresh one
        }
        if (ec == http::error::body_limit ||
            ec.category() == http::make_error_code(http::error::bad_method).category()) {
            if (ec != http::error::end_of_stream && ec != http::error::partial_message) {
                throw fail(HttpClientError::Kind::Protocol,
                           "bad answer from " + where + ": " + ec.message());
            }
        }
        throw fail(HttpClientError::Kind::Closed,
                   "connection to " + where + " ended before an answer: " + ec.message());
    }
    throw fail(HttpClientError::Kind::Closed, "connection closed twice");
}

std::size_t HttpClient::idleConnections(const std::string& host, std::uint16_t port) const {
    auto it = impl_->idle.find({host, port});
    return it == impl_->idle.end() ? 0 : it->second.size();
}

std::uint64_t HttpClient::connectionsOpened() const {
    return impl_->opened;
}

void HttpClient::closeIdle() {
    impl_->idle.clear();
}

}  // namespace restinu::rt
