#include "restinu/rt/service_client.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "restinu/rt/clock.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/http_server.hpp"
#include "restinu/rt/identity.hpp"

namespace restinu::rt {
namespace {

namespace json = boost::json;

// The problem's `field` as a string, or "" when the body is not a problem that has one.
std::string problemField(const std::string& body, const char* field) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return {};
    }
    const auto* f = v.as_object().if_contains(field);
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
}

}  // namespace

std::pair<std::string, std::uint16_t> parseHttpUrl(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        throw std::invalid_argument("expected http://host:port");
    }
    auto rest = url.substr(kScheme.size());
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        throw std::invalid_argument("expected http://host:port");
    }
    unsigned port = 0;
    const auto digits = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535) {
        throw std::invalid_argument("expected http://host:port with a port 1-65535");
    }
    return {std::string(rest.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

std::vector<std::pair<std::string, std::uint16_t>> serviceHosts(Config& c, const std::string& key,
                                                                const std::string& fallback) {
    std::vector<std::pair<std::string, std::uint16_t>> hosts;
    for (const auto& u : c.list(key, std::vector<std::string>{fallback})) {
        try {
            hosts.push_back(parseHttpUrl(u));
        } catch (const std::exception& e) {
            c.reject(key, u + ": " + e.what());
        }
    }
    return hosts;
}

Task<ServiceClient::Reply> ServiceClient::post(std::string target, std::string body) {
    const Identity caller{"service:" + caller_, {"service"}, ""};
    Reply last{Reply::Kind::Unavailable, 0, {}, {}, "no " + callee_ + " instance configured"};
    for (std::size_t tried = 0; tried < hosts_.size(); ++tried) {
        const auto& [host, port] = hosts_[next_ % hosts_.size()];
        ClientRequest req;
        req.method = Method::Post;
        req.host = host;
        req.port = port;
        req.target = target;
        req.body = body;
        req.timeout = timeout_;
        const auto request_id = newRequestId();
        req.headers = {{"Content-Type", "application/json"}, {"X-Request-Id", request_id}};
        const SignedMessage message{"POST", target, request_id, body, {}};
        for (auto& h : signIdentity(&caller, "127.0.0.1", message, secret_, unixSeconds())) {
            req.headers.push_back(std::move(h));
        }
        try {
            auto res = co_await http_.request(req);
            if (res.status >= 200 && res.status < 300) {
                co_return Reply{Reply::Kind::Ok, res.status, std::move(res.body), {}, {}};
            }
            auto detail = problemField(res.body, "detail");
            if (detail.empty()) {
                detail = "the " + callee_ + " service answered " + std::to_string(res.status);
            }
            if (res.status >= 400 && res.status < 500 && res.status != 408 && res.status != 429) {
                co_return Reply{Reply::Kind::Refused,
                                res.status,
                                {},
                                problemField(res.body, "type"),
                                std::move(detail)};
            }
            last = {Reply::Kind::Unavailable, res.status, {}, {}, std::move(detail)};
        } catch (const HttpClientError& e) {
            last = {Reply::Kind::Unavailable,
                    0,
                    {},
                    {},
                    "the " + callee_ + " service did not answer: " + e.what()};
            if (e.kind() != HttpClientError::Kind::Connect) {
                co_return last;  // it may have acted: ask again later, not another instance now
            }
        }
        ++next_;
    }
    co_return last;
}

}  // namespace restinu::rt
