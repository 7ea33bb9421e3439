#pragma once

#include <string>
#include <string_view>

#include "restinu/rt/cache.hpp"
#include "restinu/rt/http.hpp"

namespace restinu::rt {
class Config;
}  // namespace restinu::rt

/// How the property service caches its answers (ADR 0011): a listing by id and a search page,
/// each computed once across instances and invalidated by the writes and the projection.
namespace restinu::property {

/// The runtime cache's options and the lifetimes of the answers (config `cache.*`).
struct CacheSettings {
    rt::CacheOptions options;
    rt::CachePolicy policy;
};
CacheSettings readCacheSettings(rt::Config& c, std::string_view database);

/// A listing's key, which is also its group: a write to it invalidates this one key.
std::string listingKey(std::string_view id);
/// Every search page is in this group: any change a search could see invalidates them all.
inline constexpr std::string_view kSearchGroup = "search";

/// A listing as cached: what GET needs to decide who may see it (status, owner), its ETag and
/// its JSON.
struct CachedListing {
    std::string_view status;
    std::string_view owner_id;
    std::string_view etag;
    std::string_view body;

    static std::string encode(std::string_view status, std::string_view owner_id,
                              std::string_view etag, std::string_view body);
    static CachedListing decode(std::string_view cached);
};

/// A search page as cached: its ETag (a hash of the body) and the body.
struct CachedPage {
    std::string_view etag;
    std::string_view body;

    static std::string encode(std::string_view body);
    static CachedPage decode(std::string_view cached);
};

/// Cache-Control of answers anyone may see: shared caches may keep them but must revalidate
/// (ETag, 304), so a change shows at once.
inline constexpr std::string_view kPublicCacheControl = "public, no-cache";
/// Of answers for one caller only (a draft to its owner).
inline constexpr std::string_view kPrivateCacheControl = "private, no-cache";

/// Whether an If-Match or If-None-Match header (a list of entity tags, or *) names `etag`;
/// weak tags compare weakly.
bool etagListNames(std::string_view header, std::string_view etag);

/// 304 (no body) when the request's If-None-Match names `etag` (or is *); else 200 with `body`.
/// Both carry the ETag and `cache_control`.
rt::Response conditionalResponse(const rt::Request& req, std::string_view etag,
                                 std::string_view body, std::string_view cache_control);

}  // namespace restinu::property
