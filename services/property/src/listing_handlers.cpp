#include "listing_handlers.hpp"

#include <boost/json.hpp>

#include "listing.hpp"
#include "restinu/contracts/problems.hpp"
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

std::string etagOf(int version) {
    return "\"" + std::to_string(version) + "\"";
}

rt::Response listingResponse(int status, const StoredListing& s) {
    json::object out{{"id", s.id}, {"owner_id", s.owner_id}};
    for (auto& [k, v] : domain::toJson(s.listing)) {
        out[k] = v;
    }
    out["version"] = s.version;
    out["created_at"] = s.created_at;
    out["updated_at"] = s.updated_at;
    auto res = rt::jsonResponse(status, out);
    res.header("ETag", etagOf(s.version));
    return res;
}

bool isPublic(std::string_view status) {
    return status == "active" || status == "reserved" || status == "sold";
}

// Whether If-Match (a list of entity tags, or *) matches `version`. Weak tags compare weakly.
bool ifMatch(std::string_view header, int version) {
    auto want = etagOf(version);
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
        if (tag == "*" || tag == want) {
            return true;
        }
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    }
    return false;
}

}  // namespace

ListingHandlers::ListingHandlers(rt::PgPool& primary, rt::PgPool& reads)
    : primary_(primary), reads_(reads), listings_(reads) {}

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
    auto found = co_await listings_.find(id);
    if (!found) {
        co_return not_found();
    }
    const auto& s = *found;
    // Drafts and withdrawn listings are visible to their owner and admins only.
    if (!isPublic(s.listing.status)) {
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
    co_return listingResponse(200, s);
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
        if (before.owner_id != who.user_id && !who.hasRole("admin")) {
            if (!isPublic(before.listing.status)) {
                throw ApiError(problems::kNotFound, "no such listing");
            }
            throw ApiError(problems::kForbidden, "only the owner or an admin changes a listing");
        }
        if (!if_match.empty() && !ifMatch(if_match, before.version)) {
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
        l.status = to_status;
        co_return co_await ListingStore::update(
            tx, before, l, withdrawing ? "property.withdraw" : "property.update", ctx);
    });
    co_return listingResponse(200, stored);
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
    auto page_sql = search::pageQuery(params);  // named: no temporaries in a co_await (g++ 12)
    auto page = co_await search::run(reads_, std::move(page_sql));
    if (params.facets.empty()) {
        co_return rt::Response::json(200, search::pageJson(params, page, nullptr));
    }
    auto facets_sql = search::facetsQuery(params);
    auto facets = co_await search::run(reads_, std::move(facets_sql));
    co_return rt::Response::json(200, search::pageJson(params, page, &facets));
}

}  // namespace restinu::property
