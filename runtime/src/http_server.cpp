#include "restinu/rt/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "restinu/rt/http.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/router.hpp"

namespace restinu::rt {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kTok = net::as_tuple(net::use_awaitable);
constexpr std::string_view kUnmatchedRoute = "unmatched";

enum class State { Idle, Reading, Handling };

struct MetricKey {
    std::string_view route;
    Method method;
    int status;
    bool operator==(const MetricKey&) const = default;
};

struct MetricKeyHash {
    std::size_t operator()(const MetricKey& k) const noexcept {
        return std::hash<std::string_view>{}(k.route) ^ (static_cast<std::size_t>(k.method) << 20) ^
               static_cast<std::size_t>(k.status);
    }
};

struct RouteMetrics {
    Counter* requests;
    Histogram* duration;
};

}  // namespace

std::string newRequestId() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(32, '0');
    for (int half = 0; half < 2; ++half) {
        auto v = rng();
        for (int i = 0; i < 16; ++i) {
            out[static_cast<std::size_t>(half * 16 + i)] = kHex[(v >> (i * 4)) & 0xf];
        }
    }
    return out;
}

bool validRequestId(std::string_view id) {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
    struct Session {
        beast::tcp_stream* stream = nullptr;
        State state = State::Idle;
    };

    net::io_context& io;
    ServerOptions opts;
    const Router& router;
    tcp::acceptor acceptor;
    std::uint16_t bound_port = 0;
    bool draining = false;
    std::unordered_set<Session*> sessions;
    std::function<void()> on_drained;
    std::unique_ptr<net::steady_timer> grace_timer;

    Family<Counter>& requests_family;
    Family<Histogram>& duration_family;
    Gauge& active_connections;
    std::unordered_map<MetricKey, RouteMetrics, MetricKeyHash> metric_cache;

    Impl(net::io_context& io_, ServerOptions o, const Router& r, MetricsRegistry& m)
        : io(io_),
          opts(std::move(o)),
          router(r),
          acceptor(io_),
          requests_family(m.counter("restinu_http_requests_total",
                                    "HTTP requests answered, by route template, method and status",
                                    {"route", "method", "status"})),
          duration_family(m.histogram("restinu_http_request_duration_seconds",
                                      "Time from a complete request to its response, in seconds",
                                      {"route", "method"})),
          active_connections(
              m.gauge("restinu_http_connections", "Open client connections", {}).labels({})) {}

    RouteMetrics& metricsFor(std::string_view route, Method method, int status) {
        MetricKey key{route, method, status};
        auto it = metric_cache.find(key);
        if (it == metric_cache.end()) {
            auto status_s = std::to_string(status);
            RouteMetrics rm{&requests_family.labels({route, methodName(method), status_s}),
                            &duration_family.labels({route, methodName(method)})};
            it = metric_cache.emplace(key, rm).first;
        }
        return it->second;
    }

    void maybeDrained() {
        if (draining && sessions.empty() && on_drained) {
            auto done = std::move(on_drained);
            on_drained = nullptr;
            if (grace_timer) {
                grace_timer->cancel();
            }
            done();
        }
    }

    Task<void> acceptLoop() {
        auto self = shared_from_this();
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(kTok);
            if (ec) {
                if (ec == net::error::operation_aborted || !acceptor.is_open()) {
                    co_return;
                }
                // EMFILE and friends: back off a little instead of spinning.
                log::warn("http", "accept failed", {{"error", ec.message()}});
                net::steady_timer t(io, std::chrono::milliseconds(50));
                co_await t.async_wait(kTok);
                continue;
            }
            if (draining) {
                continue;
            }
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            net::co_spawn(io, session(std::move(socket)), [](const std::exception_ptr& e) {
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        log::error("http", "session failed", {{"error", ex.what()}});
                    }
                }
            });
        }
    }

    Response errorResponse(const ProblemType& type, std::string detail, std::string_view path,
                           std::string_view request_id) {
        return problemResponse(Problem{type, std::move(detail), {}, {}}, path, request_id);
    }

    Task<Response> runChain(std::size_t i, Request& req, const Handler& last) {
        const auto& mws = router.middleware();
        if (i == mws.size()) {
            co_return co_await last(req);
        }
        Handler next = [this, i, &last](Request& r) { return runChain(i + 1, r, last); };
        co_return co_await mws[i](req, next);
    }

    Task<Response> dispatch(Request& req) {
        auto match = router.match(req.method, req.path, req.params);
        req.route = match.path_known ? match.pattern : kUnmatchedRoute;
        Handler not_routed;
        const Handler* handler = match.handler;
        if (handler == nullptr) {
            not_routed = [&match](Request& r) -> Task<Response> {
                if (match.path_known) {
                    Problem p{problems::kMethodNotAllowed,
                              std::string(methodName(r.method)) + " is not allowed on " +
                                  std::string(r.path),
                              {},
                              {{"Allow", match.allow}}};
                    throw ApiError(std::move(p));
                }
                throw ApiError(problems::kNotFound, "no resource at " + std::string(r.path));
                co_return Response{};
            };
            handler = &not_routed;
        }
        try {
            if (router.middleware().empty()) {
                co_return co_await (*handler)(req);
            }
            co_return co_await runChain(0, req, *handler);
        } catch (const ApiError& e) {
            co_return problemResponse(e.problem(), req.path, req.request_id);
        } catch (const std::exception& e) {
            log::error("http", "handler failed",
                       {{"request_id", req.request_id}, {"route", req.route}, {"error", e.what()}});
            co_return errorResponse(problems::kInternal,
                                    "the server could not answer this request; quote the "
                                    "request id when reporting it",
                                    req.path, req.request_id);
        }
    }

    // Writes a problem for a request that could not be read, then the caller closes.
    Task<void> writeEarlyError(beast::tcp_stream& stream, const ProblemType& type,
                               std::string detail) {
        auto id = newRequestId();
        auto r = errorResponse(type, std::move(detail), {}, id);
        http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
        res.set(http::field::content_type, r.content_type);
        res.set("X-Request-Id", id);
        res.keep_alive(false);
        res.body() = std::move(r.body);
        res.prepare_payload();
        stream.expires_after(opts.write_timeout);
        co_await http::async_write(stream, res, kTok);
        metricsFor(kUnmatchedRoute, Method::Other, r.status).requests->inc();
        if (opts.access_log) {
            log::info("access", "request rejected before routing",
                      {{"request_id", id}, {"status", r.status}, {"error", type.slug}});
        }
    }

    Task<void> session(tcp::socket socket) {
        auto self = shared_from_this();
        beast::tcp_stream stream(std::move(socket));
        Session me{&stream, State::Idle};
        sessions.insert(&me);
        active_connections.inc();
        std::string remote_ip;
        {
            boost::system::error_code ec;
            auto ep = stream.socket().remote_endpoint(ec);
            if (!ec) {
                remote_ip = ep.address().to_string();
            }
        }
        beast::flat_buffer buffer;
        bool first = true;
        try {
            co_await serve(stream, buffer, me, remote_ip, first);
        } catch (const std::exception& e) {
            log::warn("http", "connection ended by error", {{"error", e.what()}});
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.socket().close(ignored);
        sessions.erase(&me);
        active_connections.dec();
        maybeDrained();
    }

    Task<void> serve(beast::tcp_stream& stream, beast::flat_buffer& buffer, Session& me,
                     const std::string& remote_ip, bool& first) {
        for (;;) {
            if (draining) {
                co_return;
            }
            // Wait for the first byte of the next request with the idle (or, on a new
            // connection, the header) timeout; pipelined bytes may already be buffered.
            if (buffer.size() == 0) {
                me.state = State::Idle;
                stream.expires_after(first ? opts.header_timeout : opts.idle_timeout);
                auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTok);
                if (ec) {
                    co_return;  // closed, idle timeout, or shutdown
                }
                buffer.commit(n);
            }
            first = false;
            me.state = State::Reading;
            auto started_read = std::chrono::steady_clock::now();
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(opts.header_limit));
            parser.body_limit(opts.body_limit);
            stream.expires_after(opts.header_timeout);
            auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kTok);
            if (hec) {
                co_await onReadError(stream, hec);
                co_return;
            }
            stream.expires_after(opts.body_timeout);
            auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kTok);
            if (bec) {
                co_await onReadError(stream, bec);
                co_return;
            }
            me.state = State::Handling;
            stream.expires_never();
            bool keep_alive = co_await handleOne(stream, parser.get(), remote_ip, started_read);
            if (!keep_alive) {
                co_return;
            }
        }
    }

    Task<void> onReadError(beast::tcp_stream& stream, boost::system::error_code ec) {
        if (ec == http::error::body_limit) {
            co_await writeEarlyError(
                stream, problems::kPayloadTooLarge,
                "the request body is over " + std::to_string(opts.body_limit) + " bytes");
        } else if (ec == http::error::header_limit) {
            co_await writeEarlyError(
                stream, problems::kHeadersTooLarge,
                "the request headers are over " + std::to_string(opts.header_limit) + " bytes");
        } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
                   ec != http::error::end_of_stream && ec != http::error::partial_message) {
            co_await writeEarlyError(stream, problems::kBadRequest,
                                     "the request is not valid HTTP/1.1: " + ec.message());
        }
        // Timeouts, resets and a client that went away: nothing to answer.
    }

    Task<bool> handleOne(beast::tcp_stream& stream, http::request<http::string_body>& msg,
                         const std::string& remote_ip,
                         std::chrono::steady_clock::time_point started) {
        Request req;
        req.method_name = msg.method_string();
        req.method = parseMethod(req.method_name);
        req.target = msg.target();
        auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        if (q != std::string_view::npos) {
            req.query = req.target.substr(q + 1);
        }
        req.headers.reserve(16);
        for (const auto& f : msg) {
            req.headers.emplace_back(f.name_string(), f.value());
        }
        req.body = msg.body();
        req.remote_ip = remote_ip;
        auto sent_id = req.header("X-Request-Id");
        req.request_id = validRequestId(sent_id) ? std::string(sent_id) : newRequestId();

        Response res = co_await dispatch(req);

        bool keep_alive = msg.keep_alive() && !draining;
        http::response<http::string_body> out{static_cast<http::status>(res.status), msg.version()};
        if (!res.content_type.empty()) {
            out.set(http::field::content_type, res.content_type);
        }
        for (auto& [k, v] : res.headers) {
            out.insert(k, v);
        }
        out.set("X-Request-Id", req.request_id);
        out.keep_alive(keep_alive);
        auto body_size = res.body.size();
        if (req.method == Method::Head) {
            out.content_length(body_size);
        } else {
            out.body() = std::move(res.body);
            out.prepare_payload();
        }
        auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
        auto& rm = metricsFor(req.route, req.method, res.status);
        rm.requests->inc();
        rm.duration->observe(elapsed.count());
        if (opts.access_log) {
            log::info("access", "request",
                      {{"request_id", req.request_id},
                       {"method", req.method_name},
                       {"path", req.path},
                       {"route", req.route},
                       {"status", res.status},
                       {"bytes", body_size},
                       {"duration_ms", elapsed.count() * 1000.0},
                       {"remote", req.remote_ip}});
        }
        stream.expires_after(opts.write_timeout);
        if (req.method == Method::Head) {
            http::response_serializer<http::string_body> sr{out};
            sr.split(true);
            auto [ec, n] = co_await http::async_write_header(stream, sr, kTok);
            co_return !ec && keep_alive;
        }
        auto [ec, n] = co_await http::async_write(stream, out, kTok);
        co_return !ec && keep_alive;
    }
};

HttpServer::HttpServer(IoContext& io, ServerOptions opts, const Router& router,
                       MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(io, std::move(opts), router, metrics)) {}

HttpServer::~HttpServer() {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
}

std::uint16_t HttpServer::listen() {
    auto& a = impl_->acceptor;
    boost::system::error_code ec;
    auto addr = net::ip::make_address(impl_->opts.address, ec);
    if (ec) {
        throw std::system_error(ec, "http.address " + impl_->opts.address);
    }
    tcp::endpoint ep{addr, impl_->opts.port};
    a.open(ep.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    if (impl_->opts.reuse_port) {
        int one = 1;
        ::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    a.bind(ep, ec);
    if (ec) {
        throw std::system_error(
            ec, "cannot listen on " + impl_->opts.address + ":" + std::to_string(impl_->opts.port));
    }
    a.listen(net::socket_base::max_listen_connections);
    impl_->bound_port = a.local_endpoint().port();
    return impl_->bound_port;
}

void HttpServer::start() {
    net::co_spawn(impl_->io, impl_->acceptLoop(), [](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::error("http", "accept loop failed", {{"error", ex.what()}});
            }
        }
    });
}

void HttpServer::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
    auto impl = impl_;
    net::dispatch(impl->io, [impl, grace, done = std::move(done)]() mutable {
        impl->draining = true;
        impl->on_drained = std::move(done);
        boost::system::error_code ignored;
        impl->acceptor.close(ignored);
        for (auto* s : impl->sessions) {
            if (s->state == State::Idle) {
                s->stream->socket().cancel(ignored);
            }
        }
        impl->grace_timer = std::make_unique<net::steady_timer>(impl->io, grace);
        impl->grace_timer->async_wait([impl](boost::system::error_code ec) {
            if (ec) {
                return;
            }
            if (!impl->sessions.empty()) {
                log::warn("http", "grace period over, closing connections",
                          {{"connections", impl->sessions.size()}});
            }
            boost::system::error_code ign;
            for (auto* s : impl->sessions) {
                s->stream->socket().close(ign);
            }
        });
        impl->maybeDrained();
    });
}

std::size_t HttpServer::connections() const {
    return impl_->sessions.size();
}

std::uint16_t HttpServer::port() const {
    return impl_->bound_port;
}

}  // namespace restinu::rt
