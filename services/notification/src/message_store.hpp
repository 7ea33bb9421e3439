#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "channel.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The messages table: the queue every channel's dispatcher takes from, and each message's
/// delivery log (docs/notifications.md, "Delivery").
namespace restinu::notification {

/// A message to queue: one recipient, one channel, one event.
struct NewMessage {
    std::string event_id;
    std::string channel;
    std::string user_id;
    std::string template_id;
    std::string category;
    std::string address;
    std::string to_name;
    std::string subject;
    std::string text;
    std::string html;
    std::string data_json = "{}";
    std::string unsubscribe;
};

/// One message as an operator sees it.
struct MessageRow {
    std::string id;
    std::string user_id;
    std::string channel;
    std::string template_id;
    std::string status;
    int attempts = 0;
    std::string last_error;
    std::string created_at;
};

/// A message taken for sending, with its attempt number (from 1).
struct Claimed {
    Outgoing out;
    std::string channel;
    int attempt = 0;
};

class MessageStore {
public:
    /// Queues `m` in the caller's transaction with its "queued" log row; false when the event
    /// already has that message (a redelivery): nothing is written then.
    static rt::Task<bool> enqueue(rt::PgConn& tx, const NewMessage& m);

    /// Takes up to `limit` due messages of `channels` (queued and due, or sending with an
    /// expired lease: their sender died) for `lease`, counting the attempt. Several dispatchers
    /// never take the same message (SKIP LOCKED).
    static rt::Task<std::vector<Claimed>> claim(rt::PgPool& pool,
                                                const std::vector<std::string>& channels, int limit,
                                                std::chrono::milliseconds lease);

    /// Records the attempt's outcome: sent; failed and queued again after `retry_in`; or dead
    /// (`dead`: no attempt is left, or the provider refused it for good). Only the holder of
    /// the attempt writes: a late sender whose lease was taken over changes nothing.
    static rt::Task<void> finish(rt::PgPool& pool, const Claimed& c, const SendResult& result,
                                 std::string_view provider, bool dead,
                                 std::chrono::milliseconds retry_in);

    /// Newest first; `status` and `user_id` filter when not empty.
    static rt::Task<std::vector<MessageRow>> list(rt::PgPool& pool, std::string status,
                                                  std::string user_id, int limit);
    /// Puts dead messages back in the queue with a fresh count of attempts (an operator fixed
    /// what killed them): `ids`, or every dead one when empty. Returns how many.
    static rt::Task<std::int64_t> requeueDead(rt::PgPool& pool, std::vector<std::string> ids);
};

/// The wait before attempt `attempt` + 1: base·2^(attempt-1), at most `max`, ±20% jitter.
std::chrono::milliseconds backoff(const RetryPolicy& p, int attempt);

}  // namespace restinu::notification
