#include "property_client.hpp"

#include <boost/json.hpp>

namespace restinu::payment {

rt::Task<PropertyClient::Reply> PropertyClient::step(std::string listing_id,
                                                     std::string purchase_id, std::string action,
                                                     std::string buyer_id, int expected_version) {
    namespace json = boost::json;
    std::string body = json::serialize(json::object{{"purchase_id", purchase_id},
                                                    {"action", action},
                                                    {"buyer_id", buyer_id},
                                                    {"expected_version", expected_version}});
    auto reply =
        co_await client_.post("/internal/v1/listings/" + listing_id + "/purchase-steps", body);
    using K = rt::ServiceClient::Reply::Kind;
    switch (reply.kind) {
        case K::Ok:
            co_return Reply{Reply::Kind::Ok, {}};
        case K::Refused:
            co_return Reply{Reply::Kind::Refused, std::move(reply.detail)};
        case K::Unavailable:
            break;
    }
    co_return Reply{Reply::Kind::Unavailable, std::move(reply.detail)};
}

}  // namespace restinu::payment
