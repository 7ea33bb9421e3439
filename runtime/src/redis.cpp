#include "restinu/rt/redis.hpp"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio.hpp>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLogger = "redis";
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::chrono::milliseconds kBackoffMin{50};
constexpr std::chrono::milliseconds kBackoffMax{2000};

const auto kUseTuple = net::as_tuple(net::use_awaitable);

RedisReply convertReply(const redisReply& r) {
    RedisReply out;
    switch (r.type) {
        case REDIS_REPLY_STRING:
            out.type = RedisReply::Type::String;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = RedisReply::Type::Status;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = RedisReply::Type::Error;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = RedisReply::Type::Integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = RedisReply::Type::Array;
            out.elements.reserve(r.elements);
            for (std::size_t i = 0; i < r.elements; ++i) {
                out.elements.push_back(convertReply(*r.element[i]));
            }
            break;
        default:
            out.type = RedisReply::Type::Nil;
            break;
    }
    return out;
}

std::string endpointText(const RedisOptions& opts) {
    return opts.host + ":" + std::to_string(opts.port);
}

/// Connects `socket` to host:port; resolves only when the host is not an IP address.
Task<boost::system::error_code> connectSocket(tcp::socket& socket, const RedisOptions& opts) {
    boost::system::error_code ec;
    auto address = net::ip::make_address(opts.host, ec);
    if (!ec) {
        auto [cec] = co_await socket.async_connect(tcp::endpoint(address, opts.port), kUseTuple);
        co_return cec;
    }
    tcp::resolver resolver(socket.get_executor());
    auto [rec, endpoints] =
        co_await resolver.async_resolve(opts.host, std::to_string(opts.port), kUseTuple);
    if (rec) {
        co_return rec;
    }
    auto [cec, ep] = co_await net::async_connect(socket, endpoints, kUseTuple);
    co_return cec;
}

void tuneSocket(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // Finds a peer that vanished without a FIN (power loss, a dropped NAT entry) within about a
    // minute instead of Linux's two hours: an idle subscriber would otherwise wait forever.
    socket.set_option(net::socket_base::keep_alive(true), ignored);
    const int fd = socket.native_handle();
    const int idle_s = 30;
    const int interval_s = 10;
    const int probes = 3;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}

/// Metrics and log state shared by a client and its connections (which may outlive it briefly
/// while their coroutines unwind).
struct ClientState {
    RedisOptions opts;
    Counter* ok = nullptr;
    Counter* error = nullptr;
    Histogram* duration = nullptr;
    Gauge* connected = nullptr;
    bool connect_failing = false;  // the last connect attempt failed (logged once per streak)
    bool ever_connected = false;

    void setConnected(bool up) {
        if (connected != nullptr) {
            connected->set(up ? 1 : 0);
        }
    }
};

/// A command or pipeline waiting for its replies. The timer doubles as the wake-up signal:
/// it expires at the deadline and is cancelled when the replies (or an error) are in.
struct Pending {
    Pending(const net::any_io_executor& ex, std::size_t n) : timer(ex), expected(n) {
        replies.reserve(n);
    }
    void finish() {
        done = true;
        timer.cancel();
    }

    net::steady_timer timer;
    std::size_t expected;
    std::vector<RedisReply> replies;
    std::optional<RedisError> error;
    bool done = false;
};
using PendingPtr = std::shared_ptr<Pending>;

/// One TCP connection of a Redis client: a writer coroutine drains `out_` to the socket, a
/// reader coroutine completes `pending_` in order. Once closed it stays closed; the client
/// makes a new one.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    enum class State { Connecting, Open, Closed };

    Connection(IoContext& io, std::shared_ptr<ClientState> state)
        : io_(io), state_(std::move(state)), socket_(io), connect_timer_(io), write_signal_(io) {}

    void start() { net::co_spawn(io_, run(shared_from_this()), net::detached); }

    State state() const { return status_; }

    void enqueue(PendingPtr p, std::string_view bytes) {
        pending_.push_back(std::move(p));
        out_.append(bytes);
        write_signal_.cancel();
    }

    /// Closes the socket and fails every waiting command; idempotent.
    void fail(RedisError::Kind kind, const std::string& why, bool log_loss = true) {
        if (status_ == State::Closed) {
            return;
        }
        const bool was_open = status_ == State::Open;
        status_ = State::Closed;
        boost::system::error_code ignored;
        socket_.close(ignored);
        connect_timer_.cancel();
        write_signal_.cancel();
        out_.clear();
        auto pending = std::move(pending_);
        pending_.clear();
        for (auto& p : pending) {
            if (!p->done) {
                p->error.emplace(kind, why);
                p->finish();
            }
        }
        if (was_open) {
            state_->setConnected(false);
            if (log_loss) {
                log::warn(kLogger, "redis connection lost",
                          {{"client", state_->opts.name},
                           {"endpoint", endpointText(state_->opts)},
                           {"error", why}});
            }
        } else if (!state_->connect_failing && log_loss) {
            state_->connect_failing = true;
            log::warn(kLogger, "redis connect failed",
                      {{"client", state_->opts.name},
                       {"endpoint", endpointText(state_->opts)},
                       {"error", why}});
        }
    }

private:
    static Task<void> run(std::shared_ptr<Connection> self) {
        try {
            co_await self->connectAndRead();
        } catch (const std::exception& e) {
            self->fail(RedisError::Kind::Connection, std::string("redis client: ") + e.what());
        }
    }

    Task<void> connectAndRead() {
        const auto& opts = state_->opts;
        connect_timer_.expires_after(opts.connect_timeout);
        connect_timer_.async_wait([weak = weak_from_this(), ms = opts.connect_timeout.count()](
                                      boost::system::error_code ec) {
            auto self = weak.lock();
            if (!ec && self) {
                self->fail(RedisError::Kind::Connection,
                           "connect timed out after " + std::to_string(ms) + " ms");
            }
        });
        auto ec = co_await connectSocket(socket_, opts);
        if (status_ == State::Closed) {
            co_return;
        }
        if (ec) {
            fail(RedisError::Kind::Connection,
                 "connect to " + endpointText(opts) + ": " + ec.message());
            co_return;
        }
        connect_timer_.cancel();
        tuneSocket(socket_);
        status_ = State::Open;
        state_->setConnected(true);
        if (state_->connect_failing || state_->ever_connected) {
            log::info(kLogger, "redis connected again",
                      {{"client", opts.name}, {"endpoint", endpointText(opts)}});
        }
        state_->connect_failing = false;
        state_->ever_connected = true;
        net::co_spawn(io_, writeLoop(shared_from_this()), net::detached);
        co_await readLoop();
    }

    static Task<void> writeLoop(std::shared_ptr<Connection> self) {
        std::string buf;
        while (self->status_ == State::Open) {
            if (self->out_.empty()) {
                self->write_signal_.expires_at(SteadyClock::time_point::max());
                co_await self->write_signal_.async_wait(kUseTuple);
                continue;
            }
            buf.clear();
            buf.swap(self->out_);
            auto [ec, n] = co_await net::async_write(self->socket_, net::buffer(buf), kUseTuple);
            if (ec) {
                self->fail(RedisError::Kind::Connection, "write: " + ec.message());
                co_return;
            }
        }
    }

    Task<void> readLoop() {
        std::vector<char> buf(kReadChunk);
        while (status_ == State::Open) {
            auto [ec, n] = co_await socket_.async_read_some(net::buffer(buf), kUseTuple);
            if (status_ != State::Open) {
                co_return;
            }
            if (ec) {
                fail(RedisError::Kind::Connection, ec == net::error::eof
                                                       ? "connection closed by the server"
                                                       : "read: " + ec.message());
                co_return;
            }
            std::optional<RedisError> protocol_error;
            try {
                parser_.feed(std::string_view(buf.data(), n));
                while (auto reply = parser_.next()) {
                    if (pending_.empty()) {
                        throw RedisError(RedisError::Kind::Protocol, "reply without a command");
                    }
                    auto& front = pending_.front();
                    front->replies.push_back(std::move(*reply));
                    if (front->replies.size() == front->expected) {
                        auto p = std::move(front);
                        pending_.pop_front();
                        p->finish();
                    }
                }
            } catch (const RedisError& e) {
                protocol_error = e;
            }
            if (protocol_error) {
                fail(RedisError::Kind::Protocol, protocol_error->what());
                co_return;
            }
        }
    }

    IoContext& io_;
    std::shared_ptr<ClientState> state_;
    tcp::socket socket_;
    net::steady_timer connect_timer_;
    net::steady_timer write_signal_;
    RedisReplyParser parser_;
    std::deque<PendingPtr> pending_;
    std::string out_;
    State status_ = State::Connecting;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Encoding, parsing, scripts

std::string formatRedisCommand(const std::vector<std::string>& args) {
    if (args.empty()) {
        throw std::invalid_argument("redis: empty command");
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    char* raw = nullptr;
    const int len =
        redisFormatCommandArgv(&raw, static_cast<int>(args.size()), argv.data(), lens.data());
    if (len < 0 || raw == nullptr) {
        throw std::bad_alloc();
    }
    std::unique_ptr<char, decltype(&redisFreeCommand)> owned(raw, &redisFreeCommand);
    return std::string(raw, static_cast<std::size_t>(len));
}

struct RedisReplyParser::Impl {
    Impl() : reader(redisReaderCreate()) {
        if (reader == nullptr) {
            throw std::bad_alloc();
        }
    }
    ~Impl() { redisReaderFree(reader); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    redisReader* reader;
};

RedisReplyParser::RedisReplyParser() : impl_(std::make_unique<Impl>()) {}
RedisReplyParser::~RedisReplyParser() = default;

void RedisReplyParser::feed(std::string_view bytes) {
    if (bytes.empty()) {
        return;
    }
    if (redisReaderFeed(impl_->reader, bytes.data(), bytes.size()) != REDIS_OK) {
        throw RedisError(RedisError::Kind::Protocol,
                         std::string("redis protocol error: ") + impl_->reader->errstr);
    }
}

std::optional<RedisReply> RedisReplyParser::next() {
    void* raw = nullptr;
    if (redisReaderGetReply(impl_->reader, &raw) != REDIS_OK) {
        throw RedisError(RedisError::Kind::Protocol,
                         std::string("redis protocol error: ") + impl_->reader->errstr);
    }
    if (raw == nullptr) {
        return std::nullopt;
    }
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw),
                                                                  &freeReplyObject);
    return convertReply(*reply);
}

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    if (EVP_Digest(source_.data(), source_.size(), md.data(), &md_len, EVP_sha1(), nullptr) != 1) {
        throw std::runtime_error("redis: SHA-1 of a script failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    sha1_.reserve(md_len * 2);
    for (unsigned int i = 0; i < md_len; ++i) {
        sha1_ += kHex[md[i] >> 4];
        sha1_ += kHex[md[i] & 0x0f];
    }
}

// ---------------------------------------------------------------------------------------------
// Redis

struct Redis::Impl {
    Impl(IoContext& io_ctx, RedisOptions opts, MetricsRegistry* metrics)
        : io(io_ctx), state(std::make_shared<ClientState>()) {
        state->opts = std::move(opts);
        if (metrics != nullptr) {
            const std::string& name = state->opts.name;
            auto& commands = metrics->counter("restinu_redis_commands_total",
                                              "Redis commands sent, by client and outcome "
                                              "(error: error reply, timeout or no connection)",
                                              {"client", "outcome"});
            state->ok = &commands.labels({name, "ok"});
            state->error = &commands.labels({name, "error"});
            state->duration = &metrics
                                   ->histogram("restinu_redis_command_duration_seconds",
                                               "Time from queueing a Redis command (or "
                                               "pipeline) to its last reply",
                                               {"client"})
                                   .labels({name});
            state->connected =
                &metrics
                     ->gauge("restinu_redis_connected",
                             "1 while the Redis client has an open connection", {"client"})
                     .labels({name});
            state->connected->set(0);
        }
    }

    std::shared_ptr<Connection> connection() {
        if (closed) {
            throw RedisError(RedisError::Kind::Connection,
                             "redis client " + state->opts.name + " is closed");
        }
        if (!conn || conn->state() == Connection::State::Closed) {
            conn = std::make_shared<Connection>(io, state);
            conn->start();
        }
        return conn;
    }

    void recordOutcome(const std::vector<RedisReply>* replies, std::size_t n,
                       SteadyClock::time_point started) {
        if (state->duration != nullptr) {
            state->duration->observe(
                std::chrono::duration<double>(SteadyClock::now() - started).count());
        }
        if (state->ok == nullptr) {
            return;
        }
        if (replies == nullptr) {
            state->error->inc(n);
            return;
        }
        for (const auto& r : *replies) {
            (r.isError() ? state->error : state->ok)->inc();
        }
    }

    Task<std::vector<RedisReply>> execute(std::vector<std::vector<std::string>> cmds) {
        const auto started = SteadyClock::now();
        std::string bytes;
        for (const auto& c : cmds) {
            bytes += formatRedisCommand(c);
        }
        std::shared_ptr<Connection> c;
        try {
            c = connection();
        } catch (const RedisError&) {
            recordOutcome(nullptr, cmds.size(), started);
            throw;
        }
        auto budget = state->opts.command_timeout;
        if (c->state() == Connection::State::Connecting) {
            budget += state->opts.connect_timeout;
        }
        auto p = std::make_shared<Pending>(io.get_executor(), cmds.size());
        p->timer.expires_after(budget);
        c->enqueue(p, bytes);
        while (!p->done) {
            auto [ec] = co_await p->timer.async_wait(kUseTuple);
            if (p->done) {
                break;
            }
            if (ec) {
                // Only the caller's cancellation gets here: fail() and finish() set done first.
                // The reply, when it comes, is matched to this entry and dropped.
                recordOutcome(nullptr, cmds.size(), started);
                throw boost::system::system_error(ec);
            }
            p->error.emplace(RedisError::Kind::Timeout, "redis command timed out after " +
                                                            std::to_string(budget.count()) + " ms");
            p->done = true;
            // Replies after this one would be matched to the wrong commands.
            c->fail(RedisError::Kind::Connection,
                    "connection dropped: another command on it timed out", false);
            log::warn(kLogger, "redis command timed out; connection closed",
                      {{"client", state->opts.name},
                       {"timeout_ms", static_cast<std::int64_t>(budget.count())}});
        }
        if (p->error) {
            recordOutcome(nullptr, cmds.size(), started);
            throw *p->error;
        }
        recordOutcome(&p->replies, cmds.size(), started);
        co_return std::move(p->replies);
    }

    void close() {
        closed = true;
        if (conn) {
            conn->fail(RedisError::Kind::Connection,
                       "redis client " + state->opts.name + " was closed", false);
            conn.reset();
        }
    }

    IoContext& io;
    std::shared_ptr<ClientState> state;
    std::shared_ptr<Connection> conn;
    bool closed = false;
};

Redis::Redis(IoContext& io, RedisOptions opts, MetricsRegistry* metrics)
    : impl_(std::make_shared<Impl>(io, std::move(opts), metrics)) {}

Redis::~Redis() {
    impl_->close();
}

Task<RedisReply> Redis::command(std::vector<std::string> args) {
    auto impl = impl_;  // the frame keeps the state alive if the client goes away meanwhile
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back(std::move(args));
    auto replies = co_await impl->execute(std::move(cmds));
    co_return std::move(replies.front());
}

Task<std::vector<RedisReply>> Redis::pipeline(std::vector<std::vector<std::string>> cmds) {
    auto impl = impl_;
    if (cmds.empty()) {
        co_return std::vector<RedisReply>{};
    }
    co_return co_await impl->execute(std::move(cmds));
}

Task<RedisReply> Redis::eval(const RedisScript& script, std::vector<std::string> keys,
                             std::vector<std::string> args) {
    auto impl = impl_;
    // Copied before the first suspension: the caller's script need not outlive the call.
    const std::string sha = script.sha1();
    const std::string source = script.source();
    std::vector<std::vector<std::string>> cmd(1);
    auto& evalsha = cmd.front();
    evalsha.reserve(3 + keys.size() + args.size());
    evalsha.push_back("EVALSHA");
    evalsha.push_back(sha);
    evalsha.push_back(std::to_string(keys.size()));
    std::move(keys.begin(), keys.end(), std::back_inserter(evalsha));
    std::move(args.begin(), args.end(), std::back_inserter(evalsha));

    auto replies = co_await impl->execute(cmd);
    if (!replies.front().isError() || !replies.front().str.starts_with("NOSCRIPT")) {
        co_return std::move(replies.front());
    }
    // Named, not a braced list inside co_await: GCC 12 rejects initializer lists there.
    std::vector<std::vector<std::string>> load{{"SCRIPT", "LOAD", source}};
    auto loaded = co_await impl->execute(std::move(load));
    if (loaded.front().isError()) {
        co_return std::move(loaded.front());
    }
    replies = co_await impl->execute(std::move(cmd));
    co_return std::move(replies.front());
}

Task<void> Redis::ping() {
    auto impl = impl_;
    std::vector<std::vector<std::string>> ping{{"PING"}};
    auto replies = co_await impl->execute(std::move(ping));
    const auto& r = replies.front();
    if (r.type != RedisReply::Type::Status || r.str != "PONG") {
        throw RedisError(RedisError::Kind::Reply, "redis PING answered: " + r.str);
    }
}

void Redis::close() {
    impl_->close();
}

bool Redis::connected() const {
    return impl_->conn && impl_->conn->state() == Connection::State::Open;
}

const RedisOptions& Redis::options() const {
    return impl_->state->opts;
}

// ---------------------------------------------------------------------------------------------
// RedisSubscriber

namespace {

/// The socket of one subscriber session, shared with its writer coroutine.
struct SubscriberConn {
    explicit SubscriberConn(IoContext& io) : socket(io), connect_timer(io) {}
    tcp::socket socket;
    net::steady_timer connect_timer;
    std::string out;
    bool writing = false;
    bool open = false;

    void close() {
        boost::system::error_code ignored;
        socket.close(ignored);
        connect_timer.cancel();
        open = false;
    }
};

Task<void> flushSubscriber(std::shared_ptr<SubscriberConn> conn) {
    std::string buf;
    while (!conn->out.empty() && conn->socket.is_open()) {
        buf.clear();
        buf.swap(conn->out);
        auto [ec, n] = co_await net::async_write(conn->socket, net::buffer(buf), kUseTuple);
        if (ec) {
            conn->close();  // the reader sees it and the session reconnects
            break;
        }
    }
    conn->writing = false;
}

void writeSubscriber(IoContext& io, const std::shared_ptr<SubscriberConn>& conn,
                     std::string_view bytes) {
    conn->out.append(bytes);
    if (!conn->writing) {
        conn->writing = true;
        net::co_spawn(io, flushSubscriber(conn), net::detached);
    }
}

}  // namespace

struct RedisSubscriber::Impl : std::enable_shared_from_this<RedisSubscriber::Impl> {
    Impl(IoContext& io_ctx, RedisOptions options)
        : io(io_ctx),
          opts(std::move(options)),
          backoff_timer(io_ctx),
          rng(std::random_device{}()) {}

    bool allConfirmed() const {
        for (const auto& [channel, fn] : handlers) {
            if (!confirmed.contains(channel)) {
                return false;
            }
        }
        return true;
    }

    std::string subscribeCommand(const std::vector<std::string>& channels) const {
        std::vector<std::string> args;
        args.reserve(channels.size() + 1);
        args.emplace_back("SUBSCRIBE");
        args.insert(args.end(), channels.begin(), channels.end());
        return formatRedisCommand(args);
    }

    /// One connection: connect, subscribe, deliver until it breaks. Returns whether the
    /// subscription was confirmed (a healthy session resets the backoff).
    Task<bool> session() {
        conn = std::make_shared<SubscriberConn>(io);
        auto c = conn;
        confirmed.clear();
        c->connect_timer.expires_after(opts.connect_timeout);
        c->connect_timer.async_wait([c](boost::system::error_code ec) {
            if (!ec) {
                c->close();
            }
        });
        auto ec = co_await connectSocket(c->socket, opts);
        c->connect_timer.cancel();
        if (stopped) {
            co_return false;
        }
        if (ec || !c->socket.is_open()) {
            noteFailure("redis subscriber connect failed",
                        ec ? ec.message() : std::string("connect timed out"));
            co_return false;
        }
        tuneSocket(c->socket);
        c->open = true;
        if (!handlers.empty()) {
            std::vector<std::string> channels;
            for (const auto& [channel, fn] : handlers) {
                channels.push_back(channel);
            }
            writeSubscriber(io, c, subscribeCommand(channels));
        }
        bool healthy = false;
        RedisReplyParser parser;
        std::vector<char> buf(kReadChunk);
        while (!stopped) {
            auto [rec, n] = co_await c->socket.async_read_some(net::buffer(buf), kUseTuple);
            if (stopped) {
                break;
            }
            if (rec) {
                noteFailure(
                    "redis subscriber connection lost",
                    rec == net::error::eof ? "connection closed by the server" : rec.message());
                break;
            }
            std::optional<std::string> protocol_error;
            try {
                parser.feed(std::string_view(buf.data(), n));
                while (auto reply = parser.next()) {
                    handleReply(*reply);
                    if (stopped) {
                        break;
                    }
                }
            } catch (const RedisError& e) {
                protocol_error = e.what();
            }
            if (protocol_error) {
                noteFailure("redis subscriber protocol error", *protocol_error);
                break;
            }
            if (subscribed && !healthy) {
                healthy = true;
                if (failing) {
                    log::info(kLogger, "redis subscriber subscribed again",
                              {{"client", opts.name}, {"endpoint", endpointText(opts)}});
                }
                failing = false;
            }
        }
        subscribed = false;
        c->close();
        co_return healthy;
    }

    void handleReply(const RedisReply& reply) {
        if (reply.type != RedisReply::Type::Array || reply.elements.size() < 2) {
            return;  // error replies to a bad SUBSCRIBE; nothing to match them to
        }
        const auto& kind = reply.elements[0].str;
        if (kind == "message" && reply.elements.size() >= 3) {
            auto it = handlers.find(reply.elements[1].str);
            if (it == handlers.end()) {
                return;
            }
            try {
                it->second(reply.elements[1].str, reply.elements[2].str);
            } catch (const std::exception& e) {
                log::error(kLogger, "redis subscriber callback threw",
                           {{"client", opts.name},
                            {"channel", reply.elements[1].str},
                            {"error", e.what()}});
            }
        } else if (kind == "subscribe") {
            confirmed.insert(reply.elements[1].str);
            bool was = subscribed;
            subscribed = allConfirmed();
            if (subscribed && !was && on_subscribed) {
                on_subscribed();
            }
        }
    }

    void noteFailure(std::string_view msg, const std::string& error) {
        if (!failing) {
            failing = true;
            log::warn(kLogger, msg,
                      {{"client", opts.name}, {"endpoint", endpointText(opts)}, {"error", error}});
        }
    }

    static Task<void> loop(std::shared_ptr<Impl> self) {
        auto backoff = kBackoffMin;
        while (!self->stopped) {
            bool healthy = false;
            try {
                healthy = co_await self->session();
            } catch (const std::exception& e) {
                self->noteFailure("redis subscriber failed", e.what());
            }
            self->subscribed = false;
            if (self->stopped) {
                break;
            }
            if (healthy) {
                backoff = kBackoffMin;
            }
            // Full backoff scaled into [50%, 100%]: subscribers of many processes do not
            // reconnect in lockstep after a Redis restart.
            std::uniform_int_distribution<std::int64_t> dist(backoff.count() / 2, backoff.count());
            self->backoff_timer.expires_after(std::chrono::milliseconds(dist(self->rng)));
            co_await self->backoff_timer.async_wait(kUseTuple);
            backoff = std::min(backoff * 2, kBackoffMax);
        }
        self->running = false;
    }

    void stop() {
        stopped = true;
        subscribed = false;
        backoff_timer.cancel();
        if (conn) {
            conn->close();
        }
    }

    IoContext& io;
    RedisOptions opts;
    std::map<std::string, OnMessage, std::less<>> handlers;
    std::function<void()> on_subscribed;
    std::set<std::string, std::less<>> confirmed;
    std::shared_ptr<SubscriberConn> conn;
    net::steady_timer backoff_timer;
    std::minstd_rand rng;
    bool running = false;
    bool stopped = false;
    bool subscribed = false;
    bool failing = false;
};

RedisSubscriber::RedisSubscriber(IoContext& io, RedisOptions opts)
    : impl_(std::make_shared<Impl>(io, std::move(opts))) {}

RedisSubscriber::~RedisSubscriber() {
    impl_->stop();
}

void RedisSubscriber::subscribe(std::vector<std::string> channels, OnMessage on_message) {
    std::vector<std::string> added;
    for (auto& channel : channels) {
        auto [it, inserted] = impl_->handlers.insert_or_assign(std::move(channel), on_message);
        if (inserted) {
            added.push_back(it->first);
        }
    }
    if (added.empty()) {
        return;
    }
    impl_->subscribed = false;
    // On an open connection subscribe now; otherwise the next session sends the whole set.
    if (impl_->conn && impl_->conn->open) {
        writeSubscriber(impl_->io, impl_->conn, impl_->subscribeCommand(added));
    }
}

void RedisSubscriber::onSubscribed(std::function<void()> fn) {
    impl_->on_subscribed = std::move(fn);
}

void RedisSubscriber::start() {
    impl_->stopped = false;
    if (impl_->running) {
        return;
    }
    impl_->running = true;
    net::co_spawn(impl_->io, Impl::loop(impl_), net::detached);
}

void RedisSubscriber::stop() {
    impl_->stop();
}

bool RedisSubscriber::subscribed() const {
    return impl_->subscribed;
}

}  // namespace restinu::rt
