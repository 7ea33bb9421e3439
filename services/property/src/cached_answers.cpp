#include "cached_answers.hpp"

#include <cctype>
#include <cstdio>

#include "restinu/rt/config.hpp"
#include "restinu/rt/digest.hpp"

namespace restinu::property {
namespace {

// Splits off the text before the next '\n'.
std::string_view line(std::string_view& s) {
    auto nl = s.find('\n');
    auto out = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
    return out;
}

}  // namespace

bool etagListNames(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        auto comma = header.find(',');
        auto tag = header.substr(0, comma);
        while (!tag.empty() && tag.front() == ' ') {
            tag.remove_prefix(1);
        }
        while (!tag.empty() && tag.back() == ' ') {
            tag.remove_suffix(1);
        }
        if (tag.substr(0, 2) == "W/") {
            tag.remove_prefix(2);
        }
        if (tag == "*" || tag == etag) {
            return true;
        }
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    }
    return false;
}

CacheSettings readCacheSettings(rt::Config& c, std::string_view database) {
    CacheSettings s;
    // Keys and channel per database: two deployments (or test runs) sharing a Redis never see
    // each other's answers.
    s.options.name = "property/" + std::string(database);
    s.options.enabled = c.boolean("cache.enabled", true);
    s.options.l1_bytes =
        static_cast<std::size_t>(c.integer("cache.l1_bytes", 64 << 20, 1 << 20, 1LL << 40));
    s.options.lease = c.duration("cache.lease", std::chrono::milliseconds(500));
    s.policy.fresh = c.duration("cache.fresh", std::chrono::seconds(30));
    s.policy.stale = c.duration("cache.stale", std::chrono::seconds(60));
    s.policy.if_error = c.duration("cache.if_error", std::chrono::minutes(10));
    s.policy.negative = c.duration("cache.negative", std::chrono::seconds(5));
    return s;
}

std::string listingKey(std::string_view id) {
    std::string key = "listing:";
    for (char c : id) {  // one key whichever case the id was written in
        key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return key;
}

std::string CachedListing::encode(std::string_view status, std::string_view owner_id,
                                  std::string_view etag, std::string_view body) {
    std::string out;
    out.reserve(status.size() + owner_id.size() + etag.size() + body.size() + 3);
    out.append(status).append("\n").append(owner_id).append("\n").append(etag).append("\n");
    return out.append(body);
}

CachedListing CachedListing::decode(std::string_view cached) {
    CachedListing l;
    l.status = line(cached);
    l.owner_id = line(cached);
    l.etag = line(cached);
    l.body = cached;
    return l;
}

std::string CachedPage::encode(std::string_view body) {
    const auto h = rt::fnv1a64(body);  // a change detector, not a MAC
    char etag[24];
    std::snprintf(etag, sizeof etag, "\"%016llx\"", static_cast<unsigned long long>(h));
    return std::string(etag).append("\n").append(body);
}

CachedPage CachedPage::decode(std::string_view cached) {
    CachedPage p;
    p.etag = line(cached);
    p.body = cached;
    return p;
}

rt::Response conditionalResponse(const rt::Request& req, std::string_view etag,
                                 std::string_view body, std::string_view cache_control) {
    auto res = etagListNames(req.header("If-None-Match"), etag)
                   ? rt::Response(304, "", "")
                   : rt::Response::json(200, std::string(body));
    res.header("ETag", std::string(etag));
    res.header("Cache-Control", std::string(cache_control));
    return res;
}

}  // namespace restinu::property
