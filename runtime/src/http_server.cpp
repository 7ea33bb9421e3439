#include "restinu/rt/http_server.hpp"

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "lean_parser.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/router.hpp"
#include "restinu/rt/spool.hpp"
#include "restinu/rt/worker_pool.hpp"
#include "watchdog.hpp"
#include "whole_message.hpp"
#include "wire.hpp"

namespace restinu::rt {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using detail::Watchdog;

namespace {

constexpr auto kTok = net::as_tuple(net::use_awaitable);

enum class State { Idle, Reading, Handling, Streaming };

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
    std::string out;
    out.reserve(32);
    appendRandomHex(out, 32);
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

namespace {

// Appends "HTTP/1.1 <status> <reason>\r\n"; the lines of 100-599 are built once.
void appendStatusLine(std::string& out, int status) {
    static const auto lines = [] {
        std::array<std::string, 600> all;
        for (int code = 100; code < 600; ++code) {
            auto& line = all[static_cast<std::size_t>(code)];
            line = "HTTP/1.1 " + std::to_string(code) + ' ';
            auto r = http::obsolete_reason(static_cast<http::status>(code));
            std::string_view reason(r.data(), r.size());
            line += reason.empty() || reason.front() == '<' ? std::string_view("Unknown") : reason;
            line += "\r\n";
        }
        return all;
    }();
    if (status >= 100 && status < 600) {
        out += lines[static_cast<std::size_t>(status)];
        return;
    }
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += " Unknown\r\n";
}

// A header a handler set must not be able to split the response.
bool safeHeader(std::string_view name, std::string_view value) {
    if (name.empty()) {
        return false;
    }
    for (char c : name) {
        if (c <= 0x20 || c >= 0x7f || c == ':') {
            return false;
        }
    }
    return value.empty() || (std::memchr(value.data(), '\n', value.size()) == nullptr &&
                             std::memchr(value.data(), '\r', value.size()) == nullptr);
}

bool bodyless(int status) {
    return status < 200 || status == 204 || status == 304;
}

bool framingHeader(std::string_view name) {
    return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
           iequals(name, "Connection") || iequals(name, "X-Request-Id");
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
    struct Session {
        tcp::socket* socket = nullptr;
        State state = State::Idle;
        bool lingering = false;  ///< answered early (400/413/431): drain before closing
    };
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kReadChunk = 8192;
    /// A spooled body is read in larger pieces and written to its file in batches of this.
    static constexpr std::size_t kSpoolRead = 65536;
    static constexpr std::size_t kSpoolBatch = std::size_t{256} * 1024;

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

    // Serialises the head by hand: one buffer, no per-field allocations.
    static std::string head(const Response& res, std::string_view request_id,
                            std::size_t content_length, bool keep_alive, bool http10,
                            bool streaming = false) {
        using namespace std::string_view_literals;
        std::string h;
        std::size_t size = 160 + res.content_type.size() + request_id.size();
        for (const auto& [k, v] : res.headers) {
            size += k.size() + v.size() + 4;
        }
        h.reserve(size);
        appendStatusLine(h, res.status);
        if (!res.content_type.empty() && safeHeader("Content-Type", res.content_type)) {
            h += "Content-Type: "sv;
            h += res.content_type;
            h += "\r\n"sv;
        }
        for (const auto& [k, v] : res.headers) {
            if (framingHeader(k)) {
                continue;  // the server frames the message itself
            }
            if (!safeHeader(k, v)) {
                log::error("http", "dropped a response header with forbidden characters",
                           {{"header", k}, {"request_id", request_id}});
                continue;
            }
            h += k;
            h += ": "sv;
            h += v;
            h += "\r\n"sv;
        }
        h += "X-Request-Id: "sv;
        h += request_id;
        h += "\r\n"sv;
        if (streaming) {
            if (!http10) {
                h += "Transfer-Encoding: chunked\r\n"sv;  // else the body ends at the close
            }
        } else if (!bodyless(res.status)) {
            h += "Content-Length: "sv;
            detail::appendNumber(h, content_length);
            h += "\r\n"sv;
        }
        if (!keep_alive) {
            h += "Connection: close\r\n"sv;
        } else if (http10) {
            h += "Connection: keep-alive\r\n"sv;
        }
        h += "\r\n"sv;
        return h;
    }

    // Writes a problem for a request that could not be read; the caller then closes.
    Task<void> writeEarlyError(tcp::socket& socket, Watchdog& wd, const ProblemType& type,
                               std::string detail) {
        auto id = newRequestId();
        auto r = problemResponse(Problem{type, std::move(detail), {}, {}}, {}, id);
        auto h = head(r, id, r.payload().size(), false, false);
        wd.set(Clock::now() + opts.write_timeout);
        std::array<net::const_buffer, 2> bufs{net::buffer(h), net::buffer(r.payload())};
        co_await net::async_write(socket, bufs, kTok);
        metricsFor(kUnmatchedRoute, Method::Other, r.status).requests->inc();
        if (opts.access_log) {
            log::info("access", "request rejected before routing",
                      {{"request_id", id}, {"status", r.status}, {"error", type.slug}});
        }
    }

    Task<void> session(tcp::socket socket) {
        auto self = shared_from_this();
        auto accepted = Clock::now();
        auto wd = std::make_shared<Watchdog>(io, socket);
        Session me{&socket, State::Idle};
        sessions.insert(&me);
        active_connections.inc();
        std::string remote_ip;
        {
            boost::system::error_code ec;
            auto ep = socket.remote_endpoint(ec);
            if (!ec) {
                remote_ip = ep.address().to_string();
            }
        }
        try {
            co_await serve(socket, *wd, me, remote_ip, accepted);
        } catch (const std::exception& e) {
            log::warn("http", "connection ended by error", {{"error", e.what()}});
        }
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        if (me.lingering) {
            // The client may still be sending the body we refused; closing with unread input
            // would reset the connection and could destroy our answer in flight. Read and
            // drop for a short while first (a "lingering close", as nginx and Apache do).
            wd->set(Clock::now() + std::chrono::seconds(2));
            std::array<char, 16384> sink{};
            std::size_t drained = 0;
            while (drained < (std::size_t{4} << 20)) {
                auto [ec, n] = co_await socket.async_read_some(net::buffer(sink), kTok);
                if (ec) {
                    break;
                }
                drained += n;
            }
        }
        wd->stop();
        socket.close(ignored);
        sessions.erase(&me);
        active_connections.dec();
        maybeDrained();
    }

    // The body limit that applied to a request whose read failed.
    std::uint64_t spoolLimit(const detail::LeanMessage& msg, bool spooling) const {
        if (!spooling) {
            return opts.body_limit;
        }
        auto target = msg.view(msg.target);
        return opts.spool(parseMethod(msg.view(msg.method)), target.substr(0, target.find('?')));
    }

    // The header limit as both parsers take it (Beast's is 32 bits).
    std::uint32_t headerLimit() const {
        return static_cast<std::uint32_t>(
            std::min<std::size_t>(opts.header_limit, std::numeric_limits<std::uint32_t>::max()));
    }

    Task<void> serve(tcp::socket& socket, Watchdog& wd, Session& me, const std::string& remote_ip,
                     Clock::time_point accepted) {
        beast::flat_buffer buffer;
        detail::LeanMessage msg;  // one per connection: its storage is reused
        Request::Fields spare;    // the header list's storage, handed back after each request
        bool first = true;
        for (;;) {
            if (draining) {
                co_return;
            }
            // Wait for the next request's first byte: the header timeout on a new connection,
            // the idle timeout on a kept-alive one. Pipelined bytes may already be buffered.
            if (buffer.size() == 0) {
                me.state = State::Idle;
                wd.set(first ? accepted + opts.header_timeout : Clock::now() + opts.idle_timeout);
                auto [ec, n] = co_await socket.async_read_some(buffer.prepare(kReadChunk), kTok);
                if (ec) {
                    co_return;  // closed, idle timeout, or shutdown
                }
                buffer.commit(n);
            }
            me.state = State::Reading;
            auto started = Clock::now();
            // The whole head must arrive by this deadline, counted from the first byte (from
            // the accept on a new connection): a client trickling bytes is cut off.
            wd.set((first ? accepted : started) + opts.header_timeout);
            first = false;
            // A request that came whole in the plain form (nearly all do) is read in one pass;
            // any other is Beast's, from its first byte (whole_message.hpp).
            auto whole = detail::parseWholeRequest(
                {static_cast<const char*>(buffer.data().data()), buffer.size()}, headerLimit(),
                opts.body_limit, msg);
            bool keep_alive_asked = whole.keep_alive;
            std::shared_ptr<SpooledBody> spooled;
            if (whole.used > 0) {
                buffer.consume(whole.used);
            } else {
                detail::LeanParser<true> parser(msg);
                parser.header_limit(headerLimit());
                parser.body_limit(opts.body_limit);
                parser.spool(&opts.spool);
                parser.eager(true);
                bool in_header = true;
                for (;;) {
                    boost::system::error_code ec;
                    auto used = parser.put(buffer.data(), ec);
                    buffer.consume(used);
                    if (ec && ec != http::error::need_more) {
                        me.lingering = true;
                        co_await onReadError(socket, wd, ec, spoolLimit(msg, parser.spooling()));
                        co_return;
                    }
                    if (spooled && (msg.body.size() >= kSpoolBatch || parser.is_done())) {
                        // The batch goes to the file on a file thread; the next read waits.
                        std::string batch;
                        batch.swap(msg.body);
                        bool stored = co_await spoolBatch(socket, wd, *spooled, std::move(batch));
                        if (!stored) {
                            me.lingering = true;  // the rest of the body is unread
                            co_return;
                        }
                        wd.set(Clock::now() + opts.body_timeout);  // it moves: more time
                    }
                    if (parser.is_done()) {
                        break;
                    }
                    if (in_header && parser.is_header_done()) {
                        in_header = false;
                        wd.set(Clock::now() + opts.body_timeout);
                        if (parser.spooling()) {
                            spooled = co_await newSpool(socket, wd);
                            if (!spooled) {
                                me.lingering = true;
                                co_return;
                            }
                        }
                        std::string_view expect;
                        for (std::size_t i = 0; i < msg.fields.size(); ++i) {
                            if (iequals(msg.name(i), "Expect")) {
                                expect = msg.value(i);
                                break;
                            }
                        }
                        if (!parser.is_done() && iequals(expect, "100-continue")) {
                            // The head passed the limits: ask for the body now rather than let
                            // the client wait (curl waits a second) for an answer.
                            static constexpr std::string_view kContinue =
                                "HTTP/1.1 100 Continue\r\n\r\n";
                            auto [cec, cn] = co_await net::async_write(
                                socket, net::buffer(kContinue.data(), kContinue.size()), kTok);
                            if (cec) {
                                co_return;
                            }
                        }
                    }
                    if (used > 0 && buffer.size() > 0) {
                        continue;
                    }
                    auto [rec, n] = co_await socket.async_read_some(
                        buffer.prepare(spooled ? kSpoolRead : kReadChunk), kTok);
                    if (rec) {
                        co_return;  // timed out (the watchdog closed it), reset, or went away
                    }
                    buffer.commit(n);
                }
                keep_alive_asked = parser.keep_alive();
            }
            me.state = State::Handling;
            wd.clear();
            if (!spooled && opts.spool) {
                // A spooled route's small body that came whole: the handler still gets a file.
                auto limit =
                    opts.spool(parseMethod(msg.view(msg.method)),
                               msg.view(msg.target).substr(0, msg.view(msg.target).find('?')));
                if (limit > 0 && msg.body.size() > limit) {
                    co_await writeEarlyError(
                        socket, wd, problems::kPayloadTooLarge,
                        "the request body is over " + std::to_string(limit) + " bytes");
                    co_return;
                }
                if (limit > 0) {
                    spooled = co_await newSpool(socket, wd);
                    if (!spooled) {
                        co_return;
                    }
                    std::string batch;
                    batch.swap(msg.body);
                    bool stored = co_await spoolBatch(socket, wd, *spooled, std::move(batch));
                    if (!stored) {
                        co_return;
                    }
                }
            }
            if (spooled) {
                spooled->finish();
            }
            std::shared_ptr<StreamBody> stream;
            bool keep_alive = co_await handleOne(socket, wd, msg, keep_alive_asked, spare,
                                                 remote_ip, started, stream, std::move(spooled));
            if (stream) {
                // A long-lived stream: give back what reading requests took (an idle stream
                // should cost little more than its socket), then hand the connection over.
                const bool chunked = msg.version != 10;
                buffer.clear();
                buffer.shrink_to_fit();
                msg = detail::LeanMessage{};
                Request::Fields{}.swap(spare);
                me.state = State::Streaming;
                co_await runStream(socket, wd, me, *stream, chunked);
                co_return;
            }
            if (!keep_alive) {
                co_return;
            }
        }
    }

    // A new spool file, made on a file thread; on failure (a full or missing folder) the client
    // gets a 503 and the caller closes.
    Task<std::shared_ptr<SpooledBody>> newSpool(tcp::socket& socket, Watchdog& wd) {
        std::string why;
        try {
            auto job = [dir = opts.spool_dir] { return SpooledBody::create(dir); };
            co_return co_await fileIo().run(std::move(job));
        } catch (const std::exception& e) {
            why = e.what();
        }
        co_await spoolFailed(socket, wd, why);
        co_return nullptr;
    }

    // Appends one batch of a spooled body; false (after answering 503) when the file refuses.
    Task<bool> spoolBatch(tcp::socket& socket, Watchdog& wd, SpooledBody& body, std::string batch) {
        std::string why;
        try {
            co_await body.appendAsync(std::move(batch));
            co_return true;
        } catch (const std::exception& e) {
            why = e.what();
        }
        co_await spoolFailed(socket, wd, why);
        co_return false;
    }

    Task<void> spoolFailed(tcp::socket& socket, Watchdog& wd, std::string why) {
        log::error("http", "cannot spool a request body", {{"error", why}});
        co_await writeEarlyError(socket, wd, problems::kUnavailable,
                                 "the upload cannot be stored right now; try again later");
    }

    Task<void> onReadError(tcp::socket& socket, Watchdog& wd, boost::system::error_code ec,
                           std::uint64_t body_limit) {
        if (ec == http::error::body_limit) {
            co_await writeEarlyError(
                socket, wd, problems::kPayloadTooLarge,
                "the request body is over " + std::to_string(body_limit) + " bytes");
        } else if (ec == http::error::header_limit) {
            co_await writeEarlyError(
                socket, wd, problems::kHeadersTooLarge,
                "the request headers are over " + std::to_string(opts.header_limit) + " bytes");
        } else {
            co_await writeEarlyError(socket, wd, problems::kBadRequest,
                                     "the request is not valid HTTP/1.1: " + ec.message());
        }
    }

    Task<bool> handleOne(tcp::socket& socket, Watchdog& wd, const detail::LeanMessage& msg,
                         bool client_keep_alive, Request::Fields& spare,
                         const std::string& remote_ip, Clock::time_point started,
                         std::shared_ptr<StreamBody>& stream,
                         std::shared_ptr<SpooledBody> spooled) {
        Request req;
        req.method_name = msg.view(msg.method);
        req.method = parseMethod(req.method_name);
        req.target = msg.view(msg.target);
        auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        if (q != std::string_view::npos) {
            req.query = req.target.substr(q + 1);
        }
        req.headers = std::move(spare);
        req.headers.clear();
        req.headers.reserve(msg.fields.size());
        for (std::size_t i = 0; i < msg.fields.size(); ++i) {
            req.headers.emplace_back(msg.name(i), msg.value(i));
        }
        req.body = msg.body;
        req.spooled = std::move(spooled);
        req.remote_ip = remote_ip;
        req.client_ip = remote_ip;
        auto sent_id = req.header("X-Request-Id");
        req.request_id = validRequestId(sent_id) ? std::string(sent_id) : newRequestId();

        Response res;
        Handler not_routed;
        try {
            res = co_await router.respond(req, not_routed);
        } catch (...) {
            res = failureResponse(req);
        }

        const bool streaming = res.stream && res.status == 200 && req.method == Method::Get;
        bool keep_alive = client_keep_alive && !draining && !streaming;
        bool send_body = req.method != Method::Head && !bodyless(res.status) && !streaming;
        auto h = head(res, req.request_id, res.payload().size(), keep_alive, msg.version == 10,
                      streaming);
        auto elapsed = std::chrono::duration<double>(Clock::now() - started);
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
                       {"bytes", res.payload().size()},
                       {"duration_ms", elapsed.count() * 1000.0},
                       {"remote", req.remote_ip}});
        }
        spare = std::move(req.headers);  // its capacity serves the connection's next request
        std::array<net::const_buffer, 2> bufs{
            net::buffer(h), send_body ? net::buffer(res.payload()) : net::const_buffer{}};
        boost::system::error_code ec;
        if (!detail::sendNow(socket, bufs, ec) && !ec) {
            wd.set(Clock::now() + opts.write_timeout);  // a slow reader: the rest waits for room
            auto [wec, n] = co_await net::async_write(socket, bufs, kTok);
            ec = wec;
        }
        if (streaming && !ec) {
            stream = std::move(res.stream);
        }
        co_return !ec && keep_alive;
    }

    // Writes a stream's chunks; watches the socket for the client going away.
    class SocketStream final : public StreamWriter {
    public:
        SocketStream(tcp::socket& socket, Watchdog& wd, std::chrono::milliseconds timeout,
                     bool chunked)
            : socket_(socket), wd_(wd), timeout_(timeout), chunked_(chunked) {}

        Task<bool> write(std::string_view data) override {
            if (!open_ || data.empty()) {
                co_return open_;
            }
            std::string frame;
            if (chunked_) {
                char size[20];
                int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
                frame.reserve(data.size() + 32);
                frame.append(size, static_cast<std::size_t>(n)).append(data).append("\r\n");
            } else {
                frame.assign(data);
            }
            wd_.set(Clock::now() + timeout_);  // a client that stops reading is cut off
            auto [ec, n] = co_await net::async_write(socket_, net::buffer(frame), kTok);
            wd_.clear();
            if (ec) {
                closed();
            }
            co_return open_;
        }
        bool open() const override { return open_; }

        void closed() {
            if (!open_) {
                return;
            }
            open_ = false;
            if (on_close) {
                auto fn = std::move(on_close);
                on_close = nullptr;
                fn();
            }
        }
        bool chunked() const { return chunked_; }

    private:
        tcp::socket& socket_;
        Watchdog& wd_;
        std::chrono::milliseconds timeout_;
        bool chunked_;
        bool open_ = true;
    };

    Task<void> runStream(tcp::socket& socket, Watchdog& wd, Session& me, StreamBody& body,
                         bool chunked) {
        SocketStream out(socket, wd, opts.write_timeout, chunked);
        // A read that ends only when the client closes (or shutdown() cancels it). Whatever a
        // client sends on a stream is dropped.
        bool watching = true;
        net::steady_timer watched(io, net::steady_timer::time_point::max());
        net::co_spawn(
            io,
            [&]() -> Task<void> {
                std::array<char, 64> sink{};
                for (;;) {
                    auto [ec, n] = co_await socket.async_read_some(net::buffer(sink), kTok);
                    if (ec || me.state != State::Streaming) {
                        break;
                    }
                }
                out.closed();
            },
            [&](const std::exception_ptr&) {
                watching = false;
                watched.cancel();
            });
        try {
            co_await body(out);
        } catch (const std::exception& e) {
            log::warn("http", "stream ended by error", {{"error", e.what()}});
        }
        if (out.open() && chunked) {
            static constexpr std::string_view kLast = "0\r\n\r\n";
            wd.set(Clock::now() + opts.write_timeout);
            co_await net::async_write(socket, net::buffer(kLast.data(), kLast.size()), kTok);
        }
        out.on_close = nullptr;
        me.state = State::Handling;
        boost::system::error_code ignored;
        socket.cancel(ignored);  // ends the watching read
        while (watching) {
            co_await watched.async_wait(kTok);
        }
        wd.clear();
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
            if (s->state == State::Idle || s->state == State::Streaming) {
                s->socket->cancel(ignored);  // a stream's body is told and ends
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
                s->socket->close(ign);
            }
            // A handler still waiting (on a slow query) keeps its session alive; the grace
            // period is over, so report drained anyway: the process stops its loop now.
            if (impl->on_drained) {
                auto done = std::move(impl->on_drained);
                impl->on_drained = nullptr;
                done();
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
