#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/task.hpp"

/// An asynchronous Redis client on the service's io_context. hiredis only encodes commands and
/// parses replies (RESP2); the socket, deadlines and reconnection are ours, so that no command
/// waits longer than its timeout and a restarted Redis is picked up without restarting the
/// process.
namespace restinu::rt {

class MetricsRegistry;

struct RedisOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    /// The `client` label of the metrics and the `client` field of the logs.
    std::string name = "default";
    /// Bounds resolving and connecting (TCP) when a command finds no open connection.
    std::chrono::milliseconds connect_timeout{2000};
    /// Bounds each command (or pipeline) from the moment it is queued until its reply.
    std::chrono::milliseconds command_timeout{2000};
};

/// Thrown for anything but an error reply: no connection, a deadline passed, a reply that
/// `ping()`/`eval()` cannot accept, or bytes that are not RESP.
class RedisError : public std::runtime_error {
public:
    enum class Kind { Connection, Timeout, Reply, Protocol };

    RedisError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

/// A parsed RESP2 reply. Status, Error and String keep their text in `str`; Integer in
/// `integer`; Array in `elements`. A nil bulk string and a nil array are both `Type::Nil`.
struct RedisReply {
    enum class Type { Nil, Status, Error, Integer, String, Array };

    Type type = Type::Nil;
    std::string str;
    std::int64_t integer = 0;
    std::vector<RedisReply> elements;

    bool isError() const { return type == Type::Error; }
    bool isNil() const { return type == Type::Nil; }
};

/// Encodes one command as a RESP array of bulk strings (binary-safe arguments).
std::string formatRedisCommand(const std::vector<std::string>& args);

/// Incremental RESP2 parser: feed bytes as they arrive, take whole replies out.
/// The client uses it internally; it is public so that tests can feed awkward input.
class RedisReplyParser {
public:
    RedisReplyParser();
    ~RedisReplyParser();
    RedisReplyParser(const RedisReplyParser&) = delete;
    RedisReplyParser& operator=(const RedisReplyParser&) = delete;

    void feed(std::string_view bytes);
    /// The next complete reply, or nullopt when more bytes are needed.
    /// Throws RedisError(Protocol) on malformed input; the parser is unusable afterwards.
    std::optional<RedisReply> next();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// A Lua script run with EVALSHA. The SHA-1 is computed locally, so the script is sent in
/// full only when the server does not know it yet (first use, SCRIPT FLUSH, restart).
class RedisScript {
public:
    explicit RedisScript(std::string source);
    const std::string& source() const { return source_; }
    /// Lower-case hex SHA-1 of the source, as SCRIPT LOAD returns it.
    const std::string& sha1() const { return sha1_; }

private:
    std::string source_;
    std::string sha1_;
};

/// One connection to Redis, shared by every coroutine of its io_context. Concurrent commands
/// are pipelined: each is appended to the socket in the order issued and one reader completes
/// them first-in first-out. A command whose deadline passes closes the connection (later
/// replies could no longer be matched) and fails every command waiting on it; the next command
/// connects again.
///
/// Error replies are returned as `RedisReply::Type::Error`; no connection, a broken one and
/// timeouts throw RedisError.
///
/// @par Thread safety
/// Bound to the io_context given at construction, which must be run by one thread; every call
/// must come from that thread. Services make one client per io_context (per core), no locks.
/// The object must be destroyed on that thread too; destruction closes the connection and
/// fails what is still waiting.
class Redis {
public:
    /// Does not connect: the first command does. Metrics are registered when `metrics` is set
    /// (it must outlive the client).
    Redis(IoContext& io, RedisOptions opts, MetricsRegistry* metrics = nullptr);
    ~Redis();
    Redis(const Redis&) = delete;
    Redis& operator=(const Redis&) = delete;

    /// Sends one command, e.g. `{"SET", key, value}`, and returns its reply.
    Task<RedisReply> command(std::vector<std::string> args);

    /// command() with the arguments listed: `co_await redis.call("GET", key)`. Use it inside
    /// coroutines: GCC 12 rejects `co_await redis.command({"GET", key})` ("array used as
    /// initializer", a compiler bug with braced lists of strings in a co_await expression).
    template <class... Args>
    Task<RedisReply> call(Args&&... args) {
        return command(std::vector<std::string>{std::string(std::forward<Args>(args))...});
    }

    /// Sends the commands in one write; returns their replies in the same order. Error replies
    /// are elements of the result; a connection problem or timeout throws for the whole batch.
    Task<std::vector<RedisReply>> pipeline(std::vector<std::vector<std::string>> cmds);

    /// EVALSHA; on a NOSCRIPT error it loads the script (SCRIPT LOAD) and retries once.
    /// Errors raised by the script come back as an error reply.
    Task<RedisReply> eval(const RedisScript& script, std::vector<std::string> keys,
                          std::vector<std::string> args);

    /// For /readyz: returns when Redis answers PONG, throws RedisError otherwise.
    Task<void> ping();

    /// Closes the connection and fails waiting commands with RedisError(Connection). Final:
    /// later commands throw RedisError(Connection) too.
    void close();

    /// Whether a connection is open right now (no I/O).
    bool connected() const;

    const RedisOptions& options() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// Pub/sub on a dedicated connection. `start()` runs a loop on the io_context that connects,
/// subscribes to every channel given so far and delivers messages; when the connection breaks
/// it reconnects with backoff (50 ms doubling to 2 s, with jitter) and subscribes again.
/// Messages published while it is disconnected are lost (Redis pub/sub is at-most-once).
///
/// @par Thread safety
/// Same as Redis: bound to one io_context run by one thread; call it and destroy it on that
/// thread. Callbacks run on that thread and must not block.
class RedisSubscriber {
public:
    using OnMessage = std::function<void(std::string_view channel, std::string_view message)>;

    RedisSubscriber(IoContext& io, RedisOptions opts);
    ~RedisSubscriber();
    RedisSubscriber(const RedisSubscriber&) = delete;
    RedisSubscriber& operator=(const RedisSubscriber&) = delete;

    /// Adds channels, each delivered to `on_message`. May be called before or after start().
    void subscribe(std::vector<std::string> channels, OnMessage on_message);

    /// Runs `fn` each time every channel is confirmed on a new connection: the first time and
    /// after every reconnect, when messages published in between were lost (a cache flushes
    /// what it could have missed). Runs on the subscriber's thread; must not block.
    void onSubscribed(std::function<void()> fn);

    /// Spawns the loop; does nothing when it already runs.
    void start();

    /// Stops the loop and closes the connection; no callback runs after it returns.
    void stop();

    /// True once the server confirmed every channel of the current set on the current
    /// connection; false while (re)connecting.
    bool subscribed() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace restinu::rt
