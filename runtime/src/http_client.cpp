#include "restinu/rt/http_client.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <optional>

#include "lean_parser.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
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
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kTok = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// An answer's head may be this long (Beast's default, stated so both parsers use it).
constexpr std::uint32_t kResponseHeaderLimit = 8192;

bool idempotent(Method m) {
    return m == Method::Get || m == Method::Head || m == Method::Put || m == Method::Delete ||
           m == Method::Options;
}

bool hasLineBreak(std::string_view s) {
    // Two vectorised scans beat one byte-by-byte loop on header values (a bearer token is
    // hundreds of bytes).
    return !s.empty() && (std::memchr(s.data(), '\n', s.size()) != nullptr ||
                          std::memchr(s.data(), '\r', s.size()) != nullptr);
}

// The request head, written by hand: the method, target and headers go out as given (after a
// check that none can split the head), with our Host and Content-Length in place of the
// caller's.
std::string requestHead(const ClientRequest& req, bool with_length) {
    using namespace std::string_view_literals;
    if (hasLineBreak(req.target) || req.target.find(' ') != std::string::npos) {
        throw HttpClientError(HttpClientError::Kind::Protocol,
                              "the request target has a space or a line break");
    }
    std::size_t size = 64 + req.target.size() + req.host.size();
    for (const auto& [name, value] : req.headers) {
        size += name.size() + value.size() + 4;
    }
    std::string head;
    head.reserve(size);
    head += methodName(req.method);
    head += ' ';
    head += req.target;
    head += " HTTP/1.1\r\nHost: "sv;
    head += req.host;
    head += ':';
    detail::appendNumber(head, req.port);
    head += "\r\n"sv;
    for (const auto& [name, value] : req.headers) {
        if (iequals(name, "Host") || iequals(name, "Content-Length") ||
            iequals(name, "Transfer-Encoding")) {
            continue;
        }
        if (name.empty() || hasLineBreak(name) || name.find(':') != std::string::npos ||
            hasLineBreak(value)) {
            throw HttpClientError(HttpClientError::Kind::Protocol,
                                  "header \"" + name + "\" has a line break or a colon");
        }
        head += name;
        head += ": "sv;
        head += value;
        head += "\r\n"sv;
    }
    if (with_length) {
        head += "Content-Length: "sv;
        detail::appendNumber(head, req.body_file ? req.body_file->size() : req.body.size());
        head += "\r\n"sv;
    }
    head += "\r\n"sv;
    return head;
}
}  // namespace

std::string_view ClientResponse::header(std::string_view name) const {
    const auto* v = findHeader(headers, name);
    return v != nullptr ? std::string_view{*v} : std::string_view{};
}

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
    // One kept-alive connection: its socket, the watchdog that enforces the deadline of the
    // exchange in progress (one timer for the connection's life, not one per operation), and
    // its read buffer.
    struct Conn {
        tcp::socket socket;
        std::shared_ptr<detail::Watchdog> wd;
        beast::flat_buffer buffer;
        detail::LeanMessage msg;  // the answer being read; its storage serves every answer
        Clock::time_point since;

        explicit Conn(net::io_context& io)
            : socket(io), wd(std::make_shared<detail::Watchdog>(io, socket)) {}
        ~Conn() { wd->stop(); }
        Conn(const Conn&) = delete;
        Conn& operator=(const Conn&) = delete;
    };
    using Key = std::pair<std::string, std::uint16_t>;

    net::io_context& io;
    ClientOptions opts;
    std::map<Key, std::deque<std::unique_ptr<Conn>>> idle;
    std::uint64_t opened = 0;
    Counter* ok = nullptr;
    Counter* failed = nullptr;
    Counter* pipelined = nullptr;
    Histogram* duration = nullptr;

    Impl(net::io_context& io_, ClientOptions o, MetricsRegistry* m) : io(io_), opts(std::move(o)) {
        if (m != nullptr) {
            auto& c =
                m->counter("restinu_http_client_requests_total",
                           "Outgoing HTTP requests, by client and outcome", {"client", "outcome"});
            ok = &c.labels({opts.name, "ok"});
            failed = &c.labels({opts.name, "error"});
            pipelined = &m->counter("restinu_http_client_pipelined_requests_total",
                                    "Outgoing requests written together with others on one "
                                    "connection (pipelined), by client",
                                    {"client"})
                             .labels({opts.name});
            duration = &m->histogram("restinu_http_client_request_duration_seconds",
                                     "Outgoing HTTP request time in seconds", {"client"})
                            .labels({opts.name});
        }
    }

    // An idle keep-alive connection the server has closed meanwhile reads as end-of-stream
    // (or has unexpected bytes); peeking without blocking tells, before a request is lost on it.
    static bool alive(Conn& c) {
        char ch = 0;
        auto n = ::recv(c.socket.native_handle(), &ch, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    // A pooled connection for `key`, or null. The peek (a system call) is spent only on a
    // request that could not be retried: an idempotent one that meets a connection the server
    // closed meanwhile is sent again on a fresh one (see request()), as Go's and Envoy's pools
    // do, and the proxy's GETs skip a system call each.
    std::unique_ptr<Conn> takeIdle(const Key& key, bool retryable, Clock::time_point now) {
        auto it = idle.find(key);
        if (it == idle.end()) {
            return nullptr;
        }
        while (!it->second.empty()) {
            auto conn = std::move(it->second.back());
            it->second.pop_back();
            if (now - conn->since < opts.idle_timeout && conn->socket.is_open() &&
                conn->buffer.size() == 0 && (retryable || alive(*conn))) {
                return conn;
            }
        }
        return nullptr;
    }

    void putIdle(const Key& key, std::unique_ptr<Conn> c, Clock::time_point now) {
        auto& q = idle[key];
        if (q.size() >= opts.max_idle_per_host) {
            return;  // dropping closes it
        }
        c->wd->clear();
        c->since = now;
        q.push_back(std::move(c));
    }

    Task<std::unique_ptr<Conn>> connect(const ClientRequest& req, Clock::time_point deadline) {
        tcp::resolver resolver(io);
        auto [rec, results] = co_await resolver.async_resolve(
            req.host, std::to_string(req.port), net::ip::resolver_base::numeric_service, kTok);
        if (rec) {
            throw HttpClientError(HttpClientError::Kind::Connect,
                                  "cannot resolve " + req.host + ": " + rec.message());
        }
        auto conn = std::make_unique<Conn>(io);
        conn->wd->set(std::min(deadline, Clock::now() + opts.connect_timeout));
        auto [ec, ep] = co_await net::async_connect(conn->socket, results, kTok);
        conn->wd->clear();
        if (conn->wd->fired && Clock::now() >= deadline) {
            // The request's own deadline ran out while connecting: a timeout, not a verdict on
            // the instance.
            throw HttpClientError(HttpClientError::Kind::Timeout,
                                  "no connection to " + req.host + ":" + std::to_string(req.port) +
                                      " before the request's deadline");
        }
        if (ec || conn->wd->fired) {
            // A connect that timed out sent nothing either: it is a Connect error, so a caller
            // (the gateway) may safely try another instance.
            throw HttpClientError(HttpClientError::Kind::Connect,
                                  "cannot connect to " + req.host + ":" + std::to_string(req.port) +
                                      ": " +
                                      (conn->wd->fired ? std::string("timed out") : ec.message()));
        }
        boost::system::error_code ignored;
        conn->socket.set_option(tcp::no_delay(true), ignored);
        ++opened;
        co_return conn;
    }

    // One attempt on `c`: writes the head and body in one gather write, then reads the answer.
    // Returns the error code and whether any response byte arrived.
    Task<std::pair<boost::system::error_code, bool>> exchange(Conn& c, const std::string& head,
                                                              const ClientRequest& req,
                                                              bool is_head,
                                                              Clock::time_point deadline,
                                                              ClientResponse& out) {
        c.wd->set(deadline);
        std::array<net::const_buffer, 2> bufs{net::buffer(head), net::buffer(req.body)};
        boost::system::error_code wec;
        if (!detail::sendNow(c.socket, bufs, wec) && !wec) {
            auto [aec, wn] = co_await net::async_write(c.socket, bufs, kTok);
            wec = aec;
        }
        if (!wec && req.body_file) {
            wec = co_await sendFile(c, *req.body_file);
        }
        if (wec) {
            co_return std::pair{wec, false};
        }
        auto result = co_await readAnswer(c, is_head, out);
        // Bytes beyond the answer would be an unasked-for answer: never reuse such a connection.
        out.keep_alive = out.keep_alive && c.buffer.size() == 0;
        co_return result;
    }

    // Sends a spooled body after its head, read in pieces on a file thread.
    Task<boost::system::error_code> sendFile(Conn& c, const SpooledBody& file) {
        constexpr std::size_t kPiece = std::size_t{256} * 1024;
        for (std::uint64_t offset = 0; offset < file.size();) {
            auto job = [&file, offset] { return file.read(offset, kPiece); };
            auto piece = co_await fileIo().run(std::move(job));
            if (piece.empty()) {
                co_return make_error_code(net::error::eof);  // the file is shorter than said
            }
            auto [ec, n] = co_await net::async_write(c.socket, net::buffer(piece), kTok);
            if (ec) {
                co_return ec;
            }
            offset += piece.size();
        }
        co_return boost::system::error_code{};
    }

    // Reads the next answer on `c` (the watchdog holds its deadline): a whole plain one in one
    // pass, any other through Beast's parser. `out.keep_alive` says whether the connection may
    // carry another request; bytes already buffered beyond the answer are the caller's concern.
    Task<std::pair<boost::system::error_code, bool>> readAnswer(Conn& c, bool is_head,
                                                                ClientResponse& out) {
        std::optional<detail::LeanParser<false>> parser;
        auto fresh = [&] {
            parser.emplace(c.msg);
            parser->header_limit(kResponseHeaderLimit);
            parser->body_limit(opts.max_response_body);
            parser->eager(true);
            if (is_head) {
                parser->skip(true);
            }
        };
        fresh();
        bool got_bytes = c.buffer.size() > 0;
        bool tried_whole = false;
        std::optional<bool> whole_keep_alive;
        for (;;) {
            if (c.buffer.size() > 0 && !tried_whole) {
                // An answer that came whole in the plain form is read in one pass; any other
                // is Beast's (whole_message.hpp). Tried once: a trickled answer is not rescanned.
                tried_whole = true;
                auto whole = detail::parseWholeResponse(
                    {static_cast<const char*>(c.buffer.data().data()), c.buffer.size()},
                    kResponseHeaderLimit, opts.max_response_body, is_head, c.msg);
                if (whole.used > 0) {
                    c.buffer.consume(whole.used);
                    whole_keep_alive = whole.keep_alive;
                    break;
                }
                fresh();  // Beast starts from a clean message
            }
            if (c.buffer.size() > 0) {
                boost::system::error_code pec;
                auto used = parser->put(c.buffer.data(), pec);
                c.buffer.consume(used);
                if (pec && pec != http::error::need_more) {
                    co_return std::pair{pec, true};
                }
                if (parser->is_done()) {
                    auto status = c.msg.status;
                    if (status >= 100 && status < 200 && status != 101) {
                        fresh();  // an interim answer (100 Continue): the real one follows
                        continue;
                    }
                    break;
                }
                if (used > 0 && c.buffer.size() > 0) {
                    continue;
                }
            }
            auto [rec, n] = co_await c.socket.async_read_some(c.buffer.prepare(kReadChunk), kTok);
            if (rec == net::error::eof) {
                // An answer delimited by the end of the connection is complete now (the parser
                // may only be told of the end once it has had some of the answer).
                if (parser->got_some()) {
                    boost::system::error_code eec;
                    parser->put_eof(eec);
                    if (!eec && parser->is_done()) {
                        break;
                    }
                }
                co_return std::pair{boost::system::error_code(http::error::end_of_stream),
                                    got_bytes};
            }
            if (rec) {
                co_return std::pair{rec, got_bytes};
            }
            c.buffer.commit(n);
            got_bytes = got_bytes || n > 0;
        }
        const auto& res = c.msg;
        out.status = res.status;
        // After a 101 the connection speaks another protocol: never reuse it.
        out.keep_alive =
            (whole_keep_alive ? *whole_keep_alive : parser->keep_alive()) && res.status != 101;
        out.headers.clear();
        out.headers.reserve(res.fields.size());
        for (std::size_t i = 0; i < res.fields.size(); ++i) {
            out.headers.emplace_back(res.name(i), res.value(i));
        }
        out.body = std::move(c.msg.body);
        co_return std::pair{boost::system::error_code{}, true};
    }

    // --- pipelining (ClientRequest::pipeline, ADR 0008) ------------------------------------

    // One request of a batch: its answer and the outcome, and a timer that doubles as the
    // wake-up signal: it expires at the request's deadline and is cancelled when the answer (or
    // an error) is in.
    struct Waiter {
        Waiter(net::io_context& io, bool head, Clock::time_point deadline)
            : wake(io, deadline), is_head(head) {}
        Clock::time_point deadline() const { return wake.expiry(); }
        void finish(boost::system::error_code e, bool got) {
            ec = e;
            got_bytes = got;
            done = true;
            wake.cancel();
        }
        net::steady_timer wake;
        bool is_head;
        ClientResponse res;
        boost::system::error_code ec;
        bool got_bytes = false;
        bool done = false;
    };
    using WaiterPtr = std::shared_ptr<Waiter>;

    // Requests to one host gathered during one turn of the event loop: written together on
    // one kept-alive connection, answered in order.
    struct Batch {
        std::unique_ptr<Conn> conn;
        std::string bytes;
        std::deque<WaiterPtr> waiting;
    };
    // The batch still taking requests, per host: closed when it is written (at the end of the
    // turn, by a posted handler) or full.
    std::map<Key, Batch*> open;

    // Queues a pipelined request; null when no kept-alive connection is at hand (the caller
    // then takes the ordinary path, which leaves its connection in the pool for later batches).
    WaiterPtr enqueue(const Key& key, const std::string& head, bool is_head,
                      Clock::time_point deadline, Clock::time_point now) {
        auto w = std::make_shared<Waiter>(io, is_head, deadline);
        auto& slot = open[key];
        if (slot == nullptr) {
            auto conn = takeIdle(key, true, now);
            if (!conn) {
                return nullptr;
            }
            auto batch = std::make_unique<Batch>();
            batch->conn = std::move(conn);
            slot = batch.get();
            net::post(io, [self = shared_from_this(), key, b = std::move(batch)]() mutable {
                auto& s = self->open[key];
                if (s == b.get()) {
                    s = nullptr;
                }
                net::co_spawn(self->io, runBatch(self, key, std::move(b)), net::detached);
            });
        }
        slot->bytes += head;
        slot->waiting.push_back(w);
        if (slot->waiting.size() >= opts.pipeline_depth) {
            slot = nullptr;  // full: the next request starts another batch
        }
        return w;
    }

    // Writes a batch and hands each answer to its waiter in order. When the connection fails,
    // the waiter being answered gets the error; those behind it get it with no byte of their
    // answer read, so they may be sent again elsewhere.
    static Task<void> runBatch(std::shared_ptr<Impl> self, Key key, std::unique_ptr<Batch> b) {
        auto& c = *b->conn;
        WaiterPtr current;  // the one whose answer is being read
        auto fail_rest = [&](boost::system::error_code ec) {
            for (auto& w : b->waiting) {
                w->finish(ec, false);
            }
            b->waiting.clear();
        };
        try {
            c.wd->set(b->waiting.front()->deadline());
            std::array<net::const_buffer, 2> bufs{net::buffer(b->bytes), net::const_buffer{}};
            boost::system::error_code wec;
            if (!detail::sendNow(c.socket, bufs, wec) && !wec) {
                auto [aec, wn] = co_await net::async_write(c.socket, bufs, kTok);
                wec = aec;
            }
            if (wec) {
                fail_rest(wec);
                co_return;
            }
            if (self->pipelined != nullptr && b->waiting.size() > 1) {
                self->pipelined->inc(b->waiting.size());
            }
            while (!b->waiting.empty()) {
                current = b->waiting.front();
                b->waiting.pop_front();
                c.wd->set(current->deadline());
                auto [ec, got] = co_await self->readAnswer(c, current->is_head, current->res);
                bool reusable = !ec && current->res.keep_alive;
                current->finish(ec, got);
                current.reset();
                if (!reusable) {
                    fail_rest(ec ? ec : boost::system::error_code(http::error::end_of_stream));
                    co_return;  // the connection closes with the batch
                }
            }
            if (c.buffer.size() == 0) {
                self->putIdle(key, std::move(b->conn), Clock::now());
            }
        } catch (const std::exception& e) {
            // Nothing here throws but an allocation: the batch's requests fail, the loop goes on.
            log::error("http", "a pipelined batch failed", {{"error", e.what()}});
            if (current) {
                current->finish(net::error::no_memory, true);
            }
            fail_rest(net::error::no_memory);
        }
    }
};

HttpClient::HttpClient(IoContext& io, ClientOptions opts, MetricsRegistry* metrics)
    : impl_(std::make_shared<Impl>(io, std::move(opts), metrics)) {}

HttpClient::~HttpClient() = default;

Task<ClientResponse> HttpClient::request(const ClientRequest& req) {
    auto impl = impl_;
    auto started = Clock::now();
    auto deadline = started + req.timeout;
    auto fail = [&](HttpClientError::Kind kind, const std::string& what) {
        if (impl->failed != nullptr) {
            impl->failed->inc();
        }
        return HttpClientError(kind, what);
    };
    auto succeeded = [&](Clock::time_point finished) {
        if (impl->ok != nullptr) {
            impl->ok->inc();
            impl->duration->observe(std::chrono::duration<double>(finished - started).count());
        }
    };
    // What a failed attempt is to the caller: past its deadline, a malformed answer, or a
    // connection that ended before the answer did.
    auto failure = [&](const boost::system::error_code& ec, bool timed_out) {
        auto where = req.host + ":" + std::to_string(req.port) + req.target;
        if (timed_out) {
            return fail(HttpClientError::Kind::Timeout, "no answer from " + where + " in time");
        }
        if ((ec == http::error::body_limit ||
             ec.category() == http::make_error_code(http::error::bad_method).category()) &&
            ec != http::error::end_of_stream && ec != http::error::partial_message) {
            return fail(HttpClientError::Kind::Protocol,
                        "bad answer from " + where + ": " + ec.message());
        }
        return fail(HttpClientError::Kind::Closed,
                    "connection to " + where + " ended before an answer: " + ec.message());
    };
    std::string head;
    try {
        if (req.body_file && !req.body.empty()) {
            throw HttpClientError(HttpClientError::Kind::Protocol,
                                  "a request has a body or a body file, not both");
        }
        head = requestHead(req, !req.body.empty() || req.body_file || req.method == Method::Post ||
                                    req.method == Method::Put || req.method == Method::Patch);
    } catch (const HttpClientError& e) {
        throw fail(e.kind(), e.what());
    }
    Impl::Key key{req.host, req.port};
    bool is_head = req.method == Method::Head;
    int first_attempt = 0;
    if (req.pipeline && impl->opts.pipeline_depth > 1 && (req.method == Method::Get || is_head) &&
        req.body.empty() && !req.body_file) {
        if (auto w = impl->enqueue(key, head, is_head, deadline, started)) {
            while (!w->done) {
                auto [wec] = co_await w->wake.async_wait(kTok);
                if (!wec && !w->done) {
                    // Its deadline passed while the answers before it were still coming: the
                    // batch reads its answer when it comes and drops it.
                    throw failure(wec, true);
                }
            }
            if (!w->ec) {
                succeeded(Clock::now());
                co_return std::move(w->res);
            }
            bool late = Clock::now() >= deadline;
            if (late || w->got_bytes) {
                throw failure(w->ec, late);
            }
            // Nothing of its answer came: the request goes again on a connection of its own.
            first_attempt = 1;
        }
    }
    ClientResponse out;
    for (int attempt = first_attempt; attempt < 2; ++attempt) {
        auto conn = impl->takeIdle(key, attempt == 0 && idempotent(req.method),
                                   attempt == 0 ? started : Clock::now());
        bool reused = conn != nullptr;
        if (!conn) {
            try {
                conn = co_await impl->connect(req, deadline);
            } catch (const HttpClientError& e) {
                throw fail(e.kind(), e.what());
            }
        }
        auto [ec, got_bytes] = co_await impl->exchange(*conn, head, req, is_head, deadline, out);
        if (!ec) {
            auto finished = Clock::now();
            if (out.keep_alive) {
                impl->putIdle(key, std::move(conn), finished);
            }
            succeeded(finished);
            co_return out;
        }
        bool stale = reused && !got_bytes && !conn->wd->fired &&
                     (ec == http::error::end_of_stream || ec == net::error::connection_reset ||
                      ec == net::error::broken_pipe || ec == net::error::eof);
        if (stale && attempt == 0 && idempotent(req.method)) {
            continue;  // the server closed a pooled connection meanwhile: try a fresh one
        }
        throw failure(ec, conn->wd->fired);
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
