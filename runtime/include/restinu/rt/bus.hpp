#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "restinu/rt/events.hpp"
#include "restinu/rt/redis.hpp"
#include "restinu/rt/task.hpp"

/// The event bus: at-least-once delivery, exactly-once effects (docs/events.md, ADR 0003).
///
///   service tx ──▶ restinu_outbox ──relay──▶ Redis stream events:<aggregate_type>
///        ──XREADGROUP──▶ consumer: handler + restinu_inbox row in one tx ──▶ XACK
namespace restinu::rt {

class PgPool;
class MetricsRegistry;

struct RelayOptions {
    std::string name = "relay";
    std::size_t batch = 500;
    /// Safety net when a notification is lost; the relay normally wakes on NOTIFY.
    std::chrono::milliseconds poll_interval{1000};
    /// Each stream is capped near this many entries (XADD MAXLEN ~).
    std::size_t stream_maxlen = 1'000'000;
    /// Published outbox rows older than this are deleted.
    std::chrono::milliseconds outbox_retention{std::chrono::hours(24)};
};

/// Publishes committed outbox rows to Redis Streams and marks them published.
///
/// Safe to run on several instances at once: a batch locks its rows FOR UPDATE SKIP LOCKED and
/// takes only the oldest unpublished row of each aggregate, so two relays never publish the
/// same row concurrently and an aggregate's events enter its stream in outbox order. A crash
/// between XADD and the commit that marks the rows can publish a row twice; consumers' inbox
/// makes that harmless.
///
/// @par Thread safety
/// Bound to one io_context.
class OutboxRelay {
public:
    /// `listen_conninfo` is the database's conninfo for the LISTEN connection.
    OutboxRelay(IoContext& io, PgPool& pool, Redis& redis, std::string listen_conninfo,
                RelayOptions opts = {}, MetricsRegistry* metrics = nullptr);
    ~OutboxRelay();
    OutboxRelay(const OutboxRelay&) = delete;
    OutboxRelay& operator=(const OutboxRelay&) = delete;

    void start();
    void stop();
    /// One batch: returns how many rows it published.
    Task<std::size_t> publishOnce();
    /// Rows not yet published.
    Task<std::int64_t> backlog();
    std::uint64_t published() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

struct ConsumerOptions {
    std::string group;                         ///< the consumer group, e.g. "property-projection"
    std::vector<std::string> aggregate_types;  ///< streams events:<type> it reads
    std::string consumer = "consumer-1";       ///< this instance's name within the group
    std::size_t batch = 100;
    std::chrono::milliseconds block{1000};  ///< XREADGROUP BLOCK
    /// Pending entries idle this long (their consumer crashed) are claimed (XAUTOCLAIM).
    std::chrono::milliseconds claim_idle{30'000};
    int max_attempts = 5;  ///< then the event goes to the dead-letter stream
    std::chrono::milliseconds backoff_base{100};
    std::chrono::milliseconds backoff_max{10'000};
    RedisOptions redis;  ///< its own connection (XREADGROUP blocks)
    /// Runs for each event whose effect committed (not for redeliveries the inbox recognised),
    /// before XACK: for what must follow the commit, such as evicting cached answers.
    std::function<void(const Event&)> after_commit;
    /// For tests only: runs after the effect committed and before XACK.
    std::function<void(const Event&)> after_commit_for_test;
};

/// Applies an event inside the consumer's transaction `tx`; throwing rolls the effect back.
/// Every effect must go through `tx` (a row, or an outbox event for anything outside the
/// database such as an e-mail): a handler may run again after a rollback, and only what `tx`
/// commits happens exactly once.
using EventHandler = std::function<Task<void>(PgConn& tx, const Event& event)>;

/// Reads a consumer group and applies each event once in effect: the handler and the inbox row
/// commit together, and only then is the entry acknowledged. A batch read at once is applied in
/// one transaction (one commit for up to `batch` events); if anything in it fails, it is rolled
/// back and its events are handled one at a time. Events are handled in stream order (per aggregate
/// order holds with one active consumer per group; with several, an aggregate's events may
/// interleave across them). A failing event is retried in place with exponential backoff and
/// jitter; after `max_attempts` (counted in restinu_event_failures, so crashes count too) it moves
/// to the dead-letter stream `deadletter:<group>` with its error. On start the consumer first
/// re-handles its own pending entries, and it periodically claims entries left pending by crashed
/// consumers.
///
/// @par Thread safety
/// Bound to one io_context.
class EventConsumer {
public:
    EventConsumer(IoContext& io, PgPool& pool, ConsumerOptions opts, EventHandler handler,
                  MetricsRegistry* metrics = nullptr);
    ~EventConsumer();
    EventConsumer(const EventConsumer&) = delete;
    EventConsumer& operator=(const EventConsumer&) = delete;

    void start();
    void stop();
    std::uint64_t handled() const;     ///< effects applied
    std::uint64_t duplicates() const;  ///< deliveries the inbox recognised
    std::uint64_t deadLettered() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// The replay stream of a group: consumers of that group read it beside the event streams, so
/// a replayed event reaches that group only.
std::string replayStreamFor(std::string_view group);
std::string deadLetterStreamFor(std::string_view group);

// ---- operator tooling (restinu events ...) ------------------------------------------------

struct StreamInfo {
    std::string stream;
    std::int64_t length = 0;
    struct Group {
        std::string name;
        std::int64_t pending = 0;
        std::int64_t lag = -1;  ///< entries not yet delivered to the group; -1 unknown
        std::int64_t consumers = 0;
    };
    std::vector<Group> groups;
};

/// Every events:*, replay:* and deadletter:* stream with its groups (SCAN, never KEYS).
Task<std::vector<StreamInfo>> listStreams(Redis& redis);

struct DeadLetter {
    std::string entry_id;  ///< in the dead-letter stream
    Event event;
    std::string error;
    int attempts = 0;
    std::string source_stream;
};
Task<std::vector<DeadLetter>> listDeadLetters(Redis& redis, std::string_view group,
                                              std::size_t limit = 100);

/// Moves dead letters (all when `entry_ids` is empty) back to the group's replay stream and
/// clears their failure count in `pool`'s database (when given). Returns how many.
Task<std::size_t> replayDeadLetters(Redis& redis, std::string_view group,
                                    const std::vector<std::string>& entry_ids,
                                    PgPool* failures_db = nullptr);

/// Copies the entries of `stream` between `from` and `to` (XRANGE ids, "-" and "+" for the
/// ends) to the group's replay stream. Events the group already applied are skipped by its
/// inbox. Returns how many.
Task<std::size_t> replayRange(Redis& redis, std::string_view group, std::string_view stream,
                              std::string_view from, std::string_view to);

}  // namespace restinu::rt
