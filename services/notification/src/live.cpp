#include "live.hpp"

#include <boost/json.hpp>

#include "restinu/rt/redis.hpp"

namespace restinu::notification {

rt::Task<SendResult> LiveChannel::send(const Outgoing& m) {
    boost::json::error_code ec;
    auto item = boost::json::parse(m.data_json, ec);
    if (ec || !item.is_object()) {
        co_return SendResult::permanent("the in-app item is not a JSON object");
    }
    const auto payload = boost::json::serialize(
        boost::json::object{{"user_id", m.user_id}, {"notification", std::move(item)}});
    try {
        auto r = co_await redis_.call("PUBLISH", std::string(kLiveChannel), payload);
        co_return SendResult::sent("receivers:" + std::to_string(r.integer));
    } catch (const rt::RedisError& e) {
        co_return SendResult::retry(std::string("redis: ") + e.what());
    }
}

}  // namespace restinu::notification
