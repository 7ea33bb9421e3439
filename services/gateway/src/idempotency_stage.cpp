#include "idempotency_stage.hpp"

#include <random>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/service.hpp"
#include "restinu/rt/spool.hpp"

namespace restinu::gateway {
namespace {

std::string randomOwner() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::to_string(rng()) + std::to_string(rng());
}

rt::Response refusal(const rt::Request& req, const rt::Problem& p) {
    return rt::problemResponse(p, req.path, req.request_id);
}

}  // namespace

KeyOrRefusal idempotencyKeyOf(const rt::Request& req, const RouteRule* rule) {
    auto mode = rule != nullptr ? rule->idempotency : IdempotencyMode::Optional;
    if ((req.method != rt::Method::Post && req.method != rt::Method::Patch) ||
        mode == IdempotencyMode::Off) {
        return std::optional<std::string>{};
    }
    auto header = req.header("Idempotency-Key");
    if (header.empty()) {
        if (mode == IdempotencyMode::Required) {
            return rt::Problem{rt::problems::kIdempotencyKeyRequired,
                               "this operation needs an Idempotency-Key header",
                               {},
                               {}};
        }
        return std::optional<std::string>{};
    }
    auto key = parseIdempotencyKey(header);
    if (!key) {
        return rt::Problem{rt::problems::kBadRequest,
                           "Idempotency-Key must be 1 to 255 printable ASCII characters",
                           {},
                           {}};
    }
    return key;
}

IdempotencyStage::IdempotencyStage(rt::Shard& shard, const Settings& settings)
    : shard_(shard),
      settings_(settings),
      begin_script_(std::string(idempotencyBeginScript())),
      finish_script_(std::string(idempotencyFinishScript())) {
    replays_ = &shard.metrics()
                    .counter("restinu_gateway_idempotent_replays_total",
                             "Stored answers replayed for a repeated Idempotency-Key", {})
                    .labels({});
}

rt::Task<std::variant<rt::Response, IdempotencyStage::Claim>> IdempotencyStage::begin(
    const rt::Request& req, const std::string& caller, const std::string& key) {
    // A spooled upload is known by its digest (the same route always spools, so a retry of
    // the same bytes gives the same fingerprint).
    const std::string spooled_digest = req.spooled ? "sha256:" + req.spooled->sha256() : "";
    Claim claim{idempotencyRedisKey(caller, key), idempotencyIndexKey(caller), "",
                requestFingerprint(req.method_name, req.target,
                                   req.spooled ? std::string_view(spooled_digest) : req.body)};
    claim.lock = lockValue(claim.fingerprint, randomOwner());
    std::vector<std::string> keys{claim.redis_key, claim.index_key};
    std::vector<std::string> args{
        claim.lock, std::to_string(settings_.idempotency_lock_ttl.count()),
        std::to_string(rt::unixMillis()), std::to_string(settings_.idempotency_max_keys)};
    rt::RedisReply begun;
    bool failed = false;
    try {
        begun = co_await shard_.redis().eval(begin_script_, std::move(keys), std::move(args));
    } catch (const std::exception& e) {
        failed = true;
        rt::log::warn("idempotency", "Redis unavailable", {{"error", e.what()}});
    }
    if (failed || begun.type != rt::RedisReply::Type::String) {
        // Without the store the promise cannot be kept: refuse rather than risk a duplicate.
        co_return refusal(req, {rt::problems::kUnavailable,
                                "idempotency keys cannot be honoured right now",
                                {},
                                {{"Retry-After", "1"}}});
    }
    using Kind = BeginReply::Kind;
    auto reply = readBeginReply(begun.str, claim.fingerprint);
    switch (reply.kind) {
        case Kind::Run:
            co_return claim;
        case Kind::TooManyKeys:
            co_return refusal(
                req, {rt::problems::kTooManyIdempotencyKeys,
                      "this caller holds " + std::to_string(settings_.idempotency_max_keys) +
                          " idempotency keys; retry when some have expired",
                      {},
                      {{"Retry-After", "60"}}});
        case Kind::Reused:
            co_return refusal(req, {rt::problems::kIdempotencyKeyReused,
                                    "this Idempotency-Key was used with another request",
                                    {},
                                    {}});
        case Kind::InUse:
            co_return refusal(req, {rt::problems::kIdempotencyKeyInUse,
                                    "a request with this Idempotency-Key is still running",
                                    {},
                                    {{"Retry-After", "1"}}});
        case Kind::Unreadable:
            co_return refusal(req, {rt::problems::kInternal, "stored answer unreadable", {}, {}});
        case Kind::Replay:
            break;
    }
    replays_->inc();
    auto& stored = reply.answer;
    rt::Response res(stored.status, std::move(stored.content_type), std::move(stored.body));
    res.headers = std::move(stored.headers);
    res.headers.emplace_back("Idempotent-Replayed", "true");
    co_return res;
}

rt::Task<void> IdempotencyStage::finish(const Claim& claim, const rt::Response& res,
                                        const std::string& request_id) {
    // Keep answers below 500 (a 4xx briefly, so a corrected retry need not wait); a 5xx, a
    // timeout or an answer marked no-store (a token) releases the key instead.
    std::string value;
    if (answerMayBeStored(res.status, res.headers)) {
        value = storedValue(claim.fingerprint,
                            StoredAnswer{res.status, res.content_type, res.headers, res.body});
    }
    auto ttl = res.status >= 400
                   ? std::min(settings_.idempotency_error_ttl, settings_.idempotency_ttl)
                   : settings_.idempotency_ttl;
    std::vector<std::string> keys{claim.redis_key, claim.index_key};
    std::vector<std::string> args{claim.lock, std::move(value), std::to_string(ttl.count()),
                                  std::to_string(rt::unixMillis())};
    try {
        co_await shard_.redis().eval(finish_script_, std::move(keys), std::move(args));
    } catch (const std::exception& e) {
        rt::log::warn("idempotency",
                      "could not store the answer; the key stays locked until its lock expires",
                      {{"error", e.what()}, {"request_id", request_id}});
    }
}

}  // namespace restinu::gateway
