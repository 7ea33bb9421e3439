#include "listing_handlers.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "cached_answers.hpp"
#include "listing.hpp"
#include "listing_rules.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/write_context.hpp"
#include "search_page.hpp"
#include "search_query.hpp"
#include "user_roles.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;
namespace cp = contracts::problems;

json::object listingJson(const StoredListing& s) {
    json::object out{{"id", s.id}, {"owner_id", s.owner_id}};
    for (auto& [k, v] : domain::toJson(s.listing)) {
        out[k] = v;
    }
    out["images"] = json::parse(s.images_json);
    out["vastu"] = json::parse(s.vastu_json);
    out["token"] = json::parse(s.token_json);
    out["version"] = s.version;
    out["created_at"] = s.created_at;
    out["updated_at"] = s.updated_at;
    return out;
}

rt::Response listingResponse(int status, const StoredListing& s) {
    auto res = rt::jsonResponse(status, listingJson(s));
    res.header("ETag", etagOf(s.version));
    return res;
}

constexpr int kDefaultOwnPage = 20;
constexpr int kMaxOwnPage = 100;

// The query of GET /api/v1/users/me/listings: status, limit, cursor (the last listing's id,
// base64url); anything else is refused, like a search's unknown parameters.
struct OwnPageQuery {
    std::optional<std::string> status;
    std::optional<std::string> after_id;
    int limit = kDefaultOwnPage;
};

OwnPageQuery parseOwnPageQuery(const rt::Request& req) {
    auto query = req.queryParams();
    if (!query) {
        throw ApiError(problems::kInvalidQuery, "the query string has a malformed %-escape");
    }
    OwnPageQuery q;
    std::vector<rt::FieldError> errors;
    for (const auto& [name, value] : *query) {
        if (name == "status") {
            if (domain::oneOf(value, domain::kStatuses)) {
                q.status = value;
            } else {
                errors.push_back({name, "must be one of draft, active, reserved, sold, withdrawn"});
            }
        } else if (name == "limit") {
            int n = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || end != value.data() + value.size() || n < 1 ||
                n > kMaxOwnPage) {
                errors.push_back({name, "must be a whole number from 1 to 100"});
            } else {
                q.limit = n;
            }
        } else if (name == "cursor") {
            auto id = rt::base64UrlDecode(value);
            if (!id || !rt::isUuid(*id)) {
                errors.push_back({name, "is not a cursor this endpoint gave"});
            } else {
                q.after_id = std::move(*id);
            }
        } else {
            errors.push_back({name, "is not a parameter of this endpoint"});
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kInvalidQuery, "some parameters are invalid", errors);
    }
    return q;
}

}  // namespace

ListingHandlers::ListingHandlers(rt::PgPool& primary, rt::PgPool& reads, rt::Cache& cache,
                                 rt::CachePolicy policy, search::MemoryIndex* index)
    : primary_(primary),
      reads_(reads),
      listings_(reads),
      cache_(cache),
      policy_(policy),
      index_(index) {}

rt::Task<rt::Response> ListingHandlers::create(rt::Request& req) {
    // The route admits agents and admins only (its rule reads the caller's current role).
    const auto& who = *req.identity;
    auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    domain::Listing l;
    domain::applyFields(body, l, true, errors);
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the listing has invalid fields", errors);
    }
    auto id = rt::newUuidV7();
    const auto ctx = rt::WriteContext::of(req, who.user_id);
    auto stored = co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<StoredListing> {
        co_return co_await ListingStore::insert(tx, id, who.user_id, l, ctx);
    });
    auto res = listingResponse(201, stored);
    res.header("Location", "/api/v1/properties/" + id);
    co_return res;
}

rt::Task<rt::Response> ListingHandlers::get(rt::Request& req) {
    // Not found is answered, not thrown: stale links and crawlers make it a common answer, and
    // an exception unwinding through the coroutine frames cost a fifth of the request.
    auto not_found = [&req] {
        return rt::problemResponse(rt::Problem{problems::kNotFound, "no such listing", {}, {}},
                                   req.path, req.request_id);
    };
    auto id = std::string(req.param("id"));
    if (!rt::isUuid(id)) {
        co_return not_found();
    }
    // From the cache (not found too, briefly); who may see it is decided on every request.
    // The loader may run after this request (a refresh): it holds copies, not references.
    auto load = [this, id]() -> rt::Task<rt::CachedValue> {
        auto found = co_await listings_.find(id);
        if (!found) {
            co_return nullptr;
        }
        auto rendered = listingResponse(200, *found);
        co_return std::make_shared<const std::string>(CachedListing::encode(
            found->listing.status, found->owner_id, etagOf(found->version), rendered.body));
    };
    auto key = listingKey(id);
    auto cached = co_await cache_.get(key, key, policy_, load);
    if (!cached) {
        co_return not_found();
    }
    const auto s = CachedListing::decode(*cached);
    // Drafts and withdrawn listings are visible to their owner and admins only.
    const bool is_public = isPublic(s.status);
    if (!is_public) {
        if (!req.identity) {
            co_return not_found();
        }
        if (req.identity->user_id != s.owner_id) {
            auto who = co_await currentRoles(primary_, *req.identity);
            if (!who.hasRole("admin")) {
                co_return not_found();
            }
        }
    }
    co_return conditionalResponse(req, s.etag, s.body,
                                  is_public ? kPublicCacheControl : kPrivateCacheControl);
}

rt::Task<rt::Response> ListingHandlers::update(rt::Request& req) {
    return change(req, false);
}
rt::Task<rt::Response> ListingHandlers::withdraw(rt::Request& req) {
    return change(req, true);
}

rt::Task<rt::Response> ListingHandlers::change(rt::Request& req, bool withdrawing) {
    // The route needs a caller; the roles are the user service's current ones (role source).
    const auto who = co_await currentRoles(primary_, *req.identity);
    auto id = std::string(req.param("id"));
    if (!rt::isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such listing");
    }
    auto if_match = req.header("If-Match");
    if (!withdrawing && if_match.empty()) {
        throw ApiError(problems::kPreconditionRequired,
                       "send If-Match with the ETag of the version you changed");
    }
    json::object body;
    if (!withdrawing) {
        body = rt::parseJsonObject(req);
    }
    // A refusal inside the transaction throws its problem (the transaction rolls back, nothing
    // was written); the changed row is the transaction's value.
    const auto ctx = rt::WriteContext::of(req, who.user_id);
    auto stored = co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<StoredListing> {
        auto locked = co_await ListingStore::lock(tx, id);
        if (!locked) {
            throw ApiError(problems::kNotFound, "no such listing");
        }
        const auto& before = *locked;
        requireOwnerOrAdmin(before, who, "changes a listing");
        if (!if_match.empty() && !etagListNames(if_match, etagOf(before.version))) {
            auto current = etagOf(before.version);
            throw ApiError(rt::Problem{
                problems::kPreconditionFailed,
                "the listing is at version " + current + "; read it again and reapply your change",
                {},
                {{"ETag", current}}});
        }
        auto l = before.listing;
        std::string to_status = l.status;
        if (withdrawing) {
            to_status = "withdrawn";
        } else {
            std::vector<rt::FieldError> errors;
            domain::applyFields(body, l, false, errors);
            if (auto it = body.find("status"); it != body.end()) {
                if (!it->value().is_string() ||
                    !domain::oneOf(it->value().as_string(), domain::kStatuses)) {
                    errors.push_back(
                        {"status", "must be one of draft, active, reserved, sold, withdrawn"});
                } else {
                    to_status = std::string(it->value().as_string());
                }
            }
            if (!errors.empty()) {
                throw ApiError(problems::kValidation, "the change has invalid fields", errors);
            }
        }
        if (!domain::canTransition(before.listing.status, to_status)) {
            throw ApiError(cp::kInvalidStatusTransition,
                           "a listing cannot go " + before.listing.status + " → " + to_status);
        }
        if (to_status != before.listing.status) {
            // A purchase holding the listing moves its status itself (reserve, sell, release).
            auto held = co_await tx.execute(
                "listing_reserved_by",
                "SELECT reserved_by IS NOT NULL FROM properties WHERE id = $1::uuid", id);
            if (held.get(0, 0) == "t") {
                throw ApiError(cp::kListingUnavailable,
                               "a purchase holds this listing; its status changes with it");
            }
        }
        l.status = to_status;
        co_return co_await ListingStore::update(
            tx, before, l, withdrawing ? "property.withdraw" : "property.update", ctx);
    });
    // Committed: no instance answers the old version from its cache after this (the
    // projection invalidates the searches once the read model has it).
    co_await cache_.invalidate(listingKey(id));
    co_return listingResponse(200, stored);
}

rt::Task<rt::Response> ListingHandlers::mine(rt::Request& req) {
    // The route admits signed-in callers; the owner is always the caller (no one lists
    // another's drafts: an admin reads a listing by its id).
    const auto q = parseOwnPageQuery(req);
    auto rows = co_await ListingStore::ownedBy(primary_, req.identity->user_id, q.status,
                                               q.after_id, q.limit + 1);
    json::object out;
    json::value next = nullptr;
    if (rows.size() > static_cast<std::size_t>(q.limit)) {
        rows.pop_back();
        next = rt::base64UrlEncode(rows.back().id);
    }
    json::array items;
    items.reserve(rows.size());
    for (const auto& row : rows) {
        items.emplace_back(listingJson(row));
    }
    out["items"] = std::move(items);
    out["next_cursor"] = std::move(next);
    auto res = rt::jsonResponse(200, out);
    res.header("Cache-Control", "private, no-store");
    co_return res;
}

rt::Task<rt::Response> ListingHandlers::search(rt::Request& req) {
    auto query = req.queryParams();
    if (!query) {
        throw ApiError(problems::kInvalidQuery, "the query string has a malformed %-escape");
    }
    std::vector<rt::FieldError> errors;
    auto params = search::parse(*query, errors);
    if (!errors.empty()) {
        throw ApiError(problems::kInvalidQuery, "some search parameters are invalid", errors);
    }
    // One computation per distinct search across instances; the key is the normalised
    // parameters, so equal searches share it however their query strings were written.
    // (Copies: the loader may run after this request, to refresh the page.)
    auto load = [this, params]() -> rt::Task<rt::CachedValue> {
        if (index_ != nullptr && search::MemoryIndex::answers(params)) {
            co_await index_->catchUp(reads_);          // as fresh as the read model now
            co_await index_->prepare(params, reads_);  // the words, analysed by the database
            if (auto body = index_->page(params)) {
                co_return std::make_shared<const std::string>(CachedPage::encode(*body));
            }
        }
        auto page_sql = search::pageQuery(params);  // named: no temporaries in a co_await
        auto page = co_await search::run(reads_, std::move(page_sql));
        std::string body;
        if (params.facets.empty()) {
            body = search::pageJson(params, page, nullptr);
        } else {
            auto facets_sql = search::facetsQuery(params);
            auto facets = co_await search::run(reads_, std::move(facets_sql));
            body = search::pageJson(params, page, &facets);
        }
        co_return std::make_shared<const std::string>(CachedPage::encode(body));
    };
    // A search the index answers from memory without words to analyse costs this instance
    // microseconds and the database nothing of its own: kept in L1 only, since L2's three
    // round trips (read, lease, store) would cost more than computing it (ADR 0012).
    auto policy = policy_;
    policy.shared = !(index_ != nullptr && search::MemoryIndex::answers(params) && !params.text);
    auto group = std::string(kSearchGroup);
    auto key = "search:" + search::cacheKey(params);
    auto cached = co_await cache_.get(std::move(group), std::move(key), policy, load);
    const auto page = CachedPage::decode(*cached);
    co_return conditionalResponse(req, page.etag, page.body, kPublicCacheControl);
}

}  // namespace restinu::property
