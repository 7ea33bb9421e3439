#pragma once

#include <optional>
#include <string>
#include <variant>

#include "idempotency.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/redis.hpp"
#include "restinu/rt/task.hpp"
#include "settings.hpp"

namespace restinu::rt {
class Shard;
class Counter;
}  // namespace restinu::rt

/// Stage 3 of the gateway: Idempotency-Key on POST and PATCH (ADR 0005). The first request with
/// a key takes a lock on it in Redis and runs; its answer (below 500) replaces the lock and is
/// replayed to a repeat with the same method, target and body until it expires.
namespace restinu::gateway {

/// The request's key: none (the route does not use keys, or the client sent none where they
/// are optional), the key, or why the request is refused.
using KeyOrRefusal = std::variant<std::optional<std::string>, rt::Problem>;
KeyOrRefusal idempotencyKeyOf(const rt::Request& req, const RouteRule* rule);

class IdempotencyStage {
public:
    IdempotencyStage(rt::Shard& shard, const Settings& settings);

    /// This request's hold on its key while it runs.
    struct Claim {
        std::string redis_key;
        std::string index_key;
        std::string lock;
        std::string fingerprint;
    };

    /// The answer now (a replay, or a refusal: key reused, in use, too many keys, Redis down),
    /// or the claim to run the request under.
    rt::Task<std::variant<rt::Response, Claim>> begin(const rt::Request& req,
                                                      const std::string& caller,
                                                      const std::string& key);

    /// Stores `res` under the claim (or releases the key for a 5xx, a timeout or a `no-store`
    /// answer). If Redis cannot be reached the key stays locked until its lock expires.
    rt::Task<void> finish(const Claim& claim, const rt::Response& res,
                          const std::string& request_id);

private:
    rt::Shard& shard_;
    const Settings& settings_;
    rt::RedisScript begin_script_;
    rt::RedisScript finish_script_;
    rt::Counter* replays_ = nullptr;
};

}  // namespace restinu::gateway
