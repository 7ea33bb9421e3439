#include "property_client.hpp"

#include <boost/json.hpp>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/http_server.hpp"
#include "restinu/rt/identity.hpp"

namespace restinu::payment {
namespace {
namespace json = boost::json;
}

rt::Task<PropertyClient::Reply> PropertyClient::step(std::string listing_id,
                                                     std::string purchase_id, std::string action,
                                                     std::string buyer_id, int expected_version) {
    const std::string body = json::serialize(json::object{{"purchase_id", purchase_id},
                                                          {"action", action},
                                                          {"buyer_id", buyer_id},
                                                          {"expected_version", expected_version}});
    const std::string target = "/internal/v1/listings/" + listing_id + "/purchase-steps";
    const rt::Identity caller{"service:payment", {"service"}, ""};
    Reply last{Reply::Kind::Unavailable, "no property instance configured"};
    for (std::size_t tried = 0; tried < hosts_.size(); ++tried) {
        const auto& [host, port] = hosts_[next_ % hosts_.size()];
        rt::ClientRequest req;
        req.method = rt::Method::Post;
        req.host = host;
        req.port = port;
        req.target = target;
        req.body = body;
        req.timeout = timeout_;
        const auto request_id = rt::newRequestId();
        req.headers = {{"Content-Type", "application/json"}, {"X-Request-Id", request_id}};
        const rt::SignedMessage message{"POST", target, request_id, body, {}};
        for (auto& h :
             rt::signIdentity(&caller, "127.0.0.1", message, secret_, rt::unixSeconds())) {
            req.headers.push_back(std::move(h));
        }
        try {
            auto res = co_await http_.request(req);
            if (res.status == 200) {
                co_return Reply{Reply::Kind::Ok, {}};
            }
            std::string detail = "the property service answered " + std::to_string(res.status);
            boost::system::error_code ec;
            auto problem = json::parse(res.body, ec);
            if (!ec && problem.is_object()) {
                if (const auto* d = problem.as_object().if_contains("detail");
                    d != nullptr && d->is_string()) {
                    detail = std::string(d->as_string());
                }
            }
            if (res.status >= 400 && res.status < 500 && res.status != 408 && res.status != 429) {
                co_return Reply{Reply::Kind::Refused, detail};
            }
            last = {Reply::Kind::Unavailable, detail};
        } catch (const rt::HttpClientError& e) {
            last = {Reply::Kind::Unavailable,
                    std::string("the property service did not answer: ") + e.what()};
            if (e.kind() != rt::HttpClientError::Kind::Connect) {
                co_return last;  // it may have acted: ask again later, not another instance now
            }
        }
        ++next_;
    }
    co_return last;
}

}  // namespace restinu::payment
