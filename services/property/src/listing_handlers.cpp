#include "listing_handlers.hpp"

#include <boost/json.hpp>

#include "listing.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "search_query.hpp"
#include "user_roles.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;

// A search page is written straight from the result's text: PostgreSQL's output for integers,
// floats and array_to_json is already JSON, so nothing is parsed and built again (a page is a
// few hundred values; building them as boost::json nodes was most of the service's time).
void appendString(std::string& out, std::string_view s) {
    out += '"';
    rt::log::appendJsonEscaped(out, s);
    out += '"';
}

// A number as PostgreSQL printed it, or null for NaN and the infinities (not JSON).
void appendNumber(std::string& out, std::string_view s) {
    bool ok = !s.empty() && s.find_first_not_of("-+.0123456789eE") == std::string_view::npos;
    out += ok ? s : std::string_view("null");
}

// `"name":` after a comma unless it opens its object.
void appendField(std::string& out, std::string_view name) {
    if (out.back() != '{') {
        out += ',';
    }
    out += '"';
    out += name;
    out += "\":";
}

void stringMember(std::string& out, std::string_view name, std::string_view value) {
    appendField(out, name);
    appendString(out, value);
}

void numberMember(std::string& out, std::string_view name, std::string_view value) {
    appendField(out, name);
    appendNumber(out, value);
}

constexpr rt::ProblemType kBadTransition{"invalid-status-transition",
                                         "The listing cannot move to that status", 409};

// The write model's columns, in the order listingFrom() reads them.
constexpr std::string_view kWriteColumns =
    "id::text, owner_id::text, title, description, property_type, listing_type, status, "
    "price_minor, currency, bedrooms, bathrooms, area_sqft, address_line, locality, city, state, "
    "postal_code, country, latitude, longitude, facing, array_to_json(amenities)::text, version, "
    "restinu_iso(created_at), restinu_iso(updated_at), to_jsonb(p)::text";

// The read model's columns that the projection replaces on a newer version.
constexpr std::string_view kReadModelUpdate =
    "owner_id = EXCLUDED.owner_id, title = EXCLUDED.title, "
    "property_type = EXCLUDED.property_type, listing_type = EXCLUDED.listing_type, "
    "status = EXCLUDED.status, price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency, "
    "bedrooms = EXCLUDED.bedrooms, bathrooms = EXCLUDED.bathrooms, "
    "area_sqft = EXCLUDED.area_sqft, locality = EXCLUDED.locality, city = EXCLUDED.city, "
    "city_key = EXCLUDED.city_key, state = EXCLUDED.state, country = EXCLUDED.country, "
    "latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, geog = EXCLUDED.geog, "
    "facing = EXCLUDED.facing, amenities = EXCLUDED.amenities, version = EXCLUDED.version, "
    "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
    "document = EXCLUDED.document";

struct Stored {
    std::string id;
    std::string owner_id;
    domain::Listing listing;
    int version = 0;
    std::string created_at;
    std::string updated_at;
    std::string row_json;  ///< the write-model row as JSON, for events
};

Stored storedFrom(const rt::PgResult& r, std::size_t i) {
    Stored s;
    s.id = r.get(i, 0);
    s.owner_id = r.get(i, 1);
    auto& l = s.listing;
    l.title = r.get(i, 2);
    l.description = r.get(i, 3);
    l.property_type = r.get(i, 4);
    l.listing_type = r.get(i, 5);
    l.status = r.get(i, 6);
    l.price_minor = r.getInt(i, 7);
    l.currency = r.get(i, 8);
    l.bedrooms = static_cast<int>(r.getInt(i, 9));
    l.bathrooms = static_cast<int>(r.getInt(i, 10));
    l.area_sqft = static_cast<int>(r.getInt(i, 11));
    l.address_line = r.get(i, 12);
    l.locality = r.get(i, 13);
    l.city = r.get(i, 14);
    l.state = r.get(i, 15);
    l.postal_code = r.get(i, 16);
    l.country = r.get(i, 17);
    l.latitude = std::stod(std::string(r.get(i, 18)));
    l.longitude = std::stod(std::string(r.get(i, 19)));
    if (auto f = r.opt(i, 20)) {
        l.facing = std::string(*f);
    }
    auto amenities = json::parse(r.get(i, 21));
    for (const auto& a : amenities.as_array()) {
        l.amenities.emplace_back(a.as_string());
    }
    s.version = static_cast<int>(r.getInt(i, 22));
    s.created_at = r.get(i, 23);
    s.updated_at = r.get(i, 24);
    s.row_json = r.get(i, 25);
    return s;
}

std::string etagOf(int version) {
    return "\"" + std::to_string(version) + "\"";
}

rt::Response listingResponse(int status, const Stored& s) {
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

const rt::Identity& requireCaller(const rt::Request& req) {
    if (!req.identity) {
        throw ApiError(rt::Problem{problems::kUnauthorized,
                                   "sign in first: send an access token through the gateway",
                                   {},
                                   {{"WWW-Authenticate", "Bearer"}}});
    }
    return *req.identity;
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

std::string eventData(const Stored& s, const std::string& from_status) {
    contracts::PropertyChanged changed{s.row_json, s.version, from_status,
                                       from_status.empty() ? std::string{} : s.listing.status};
    return changed.data();
}

// The listing's columns as bound parameters, after `first`, in the order of the INSERT and
// UPDATE below (title ... facing, then the amenities as a JSON array).
std::vector<rt::PgParam> listingParams(std::vector<rt::PgParam> first, const domain::Listing& l) {
    json::array amenities;
    for (const auto& a : l.amenities) {
        amenities.emplace_back(a);
    }
    auto add = [&first](rt::PgParam p) { first.push_back(std::move(p)); };
    add(l.title);
    add(l.description);
    add(l.property_type);
    add(l.listing_type);
    add(l.status);
    add(l.price_minor);
    add(l.currency);
    add(l.bedrooms);
    add(l.bathrooms);
    add(l.area_sqft);
    add(l.address_line);
    add(l.locality);
    add(l.city);
    add(l.state);
    add(l.postal_code);
    add(l.country);
    add(l.latitude);
    add(l.longitude);
    add(l.facing);
    add(json::serialize(amenities));
    return first;
}

}  // namespace

ListingHandlers::ListingHandlers(rt::PgPool& primary, rt::PgPool& reads)
    : primary_(primary), reads_(reads) {}

rt::Task<rt::Response> ListingHandlers::create(rt::Request& req) {
    const auto who = co_await currentRoles(primary_, requireCaller(req));
    if (!who.hasRole("agent") && !who.hasRole("admin")) {
        throw ApiError(problems::kForbidden, "only agents and admins list properties");
    }
    auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    domain::Listing l;
    domain::applyFields(body, l, true, errors);
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the listing has invalid fields", errors);
    }
    auto id = rt::newUuidV7();
    Stored stored;
    co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        const std::string sql =
            "INSERT INTO properties AS p (id, owner_id, title, description, property_type, "
            "listing_type, status, price_minor, currency, bedrooms, bathrooms, area_sqft, "
            "address_line, locality, city, state, postal_code, country, latitude, longitude, "
            "facing, amenities) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8::bigint, $9, "
            "$10::int, $11::int, $12::int, $13, $14, $15, $16, $17, $18, $19::float8, "
            "$20::float8, $21, ARRAY(SELECT json_array_elements_text($22::json))) RETURNING " +
            std::string(kWriteColumns);
        auto params = listingParams({rt::PgParam(id), rt::PgParam(who.user_id)}, l);
        auto r = co_await tx.query(sql, std::move(params));
        stored = storedFrom(r, 0);
        auto event = rt::makeEvent(std::string(contracts::PropertyChanged::kCreated),
                                   std::string(contracts::kPropertyAggregate), id,
                                   eventData(stored, ""), std::string(req.header("traceparent")));
        co_await rt::enqueueEvent(tx, event);
        co_await rt::audit(tx, who.user_id, "property.create", "property", id, req.request_id);
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
    const std::string sql =
        "SELECT " + std::string(kWriteColumns) + " FROM properties p WHERE id = $1::uuid";
    auto r = co_await reads_.query(sql, id);
    if (r.rows() == 0) {
        co_return not_found();
    }
    auto s = storedFrom(r, 0);
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
    const auto who = co_await currentRoles(primary_, requireCaller(req));
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
    auto stored = co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<Stored> {
        const std::string select = "SELECT " + std::string(kWriteColumns) +
                                   " FROM properties p WHERE id = $1::uuid FOR UPDATE";
        auto r = co_await tx.query(select, id);
        if (r.rows() == 0) {
            throw ApiError(problems::kNotFound, "no such listing");
        }
        auto before = storedFrom(r, 0);
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
            throw ApiError(kBadTransition,
                           "a listing cannot go " + before.listing.status + " → " + to_status);
        }
        l.status = to_status;
        const std::string sql =
            "UPDATE properties p SET title = $2, description = $3, property_type = $4, "
            "listing_type = $5, status = $6, price_minor = $7::bigint, currency = $8, "
            "bedrooms = $9::int, bathrooms = $10::int, area_sqft = $11::int, address_line = $12, "
            "locality = $13, city = $14, state = $15, postal_code = $16, country = $17, "
            "latitude = $18::float8, longitude = $19::float8, facing = $20, "
            "amenities = ARRAY(SELECT json_array_elements_text($21::json)), "
            "version = version + 1, updated_at = now() WHERE id = $1::uuid RETURNING " +
            std::string(kWriteColumns);
        auto params = listingParams({rt::PgParam(id)}, l);
        auto u = co_await tx.query(sql, std::move(params));
        auto after = storedFrom(u, 0);
        bool status_changed = before.listing.status != to_status;
        std::string type(!status_changed            ? contracts::PropertyChanged::kUpdated
                         : to_status == "withdrawn" ? contracts::PropertyChanged::kWithdrawn
                                                    : contracts::PropertyChanged::kStatusChanged);
        auto event = rt::makeEvent(type, std::string(contracts::kPropertyAggregate), id,
                                   eventData(after, status_changed ? before.listing.status : ""),
                                   std::string(req.header("traceparent")));
        co_await rt::enqueueEvent(tx, event);
        co_await rt::audit(tx, who.user_id, withdrawing ? "property.withdraw" : "property.update",
                           "property", id, req.request_id);
        co_return after;
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
    auto page = search::pageQuery(params);
    auto r = co_await search::run(reads_, std::move(page));
    auto n = std::min<std::size_t>(r.rows(), static_cast<std::size_t>(params.limit));
    std::string body;
    body.reserve(256 + n * 768);
    body += "{\"items\":[";
    for (std::size_t i = 0; i < n; ++i) {
        body += i == 0 ? "{" : ",{";
        stringMember(body, "id", r.get(i, 0));
        stringMember(body, "owner_id", r.get(i, 1));
        stringMember(body, "title", r.get(i, 2));
        stringMember(body, "property_type", r.get(i, 3));
        stringMember(body, "listing_type", r.get(i, 4));
        stringMember(body, "status", r.get(i, 5));
        appendField(body, "price");
        body += '{';
        numberMember(body, "amount", r.get(i, 6));
        stringMember(body, "currency", r.get(i, 7));
        body += '}';
        numberMember(body, "bedrooms", r.get(i, 8));
        numberMember(body, "bathrooms", r.get(i, 9));
        numberMember(body, "area_sqft", r.get(i, 10));
        appendField(body, "address");
        body += '{';
        stringMember(body, "locality", r.get(i, 11));
        stringMember(body, "city", r.get(i, 12));
        stringMember(body, "state", r.get(i, 13));
        stringMember(body, "country", r.get(i, 14));
        body += '}';
        appendField(body, "location");
        body += '{';
        numberMember(body, "lat", r.get(i, 15));
        numberMember(body, "lng", r.get(i, 16));
        body += '}';
        if (r.isNull(i, 17)) {
            appendField(body, "facing");
            body += "null";
        } else {
            stringMember(body, "facing", r.get(i, 17));
        }
        appendField(body, "amenities");
        body += r.get(i, 18);  // array_to_json: JSON already
        numberMember(body, "version", r.get(i, 19));
        stringMember(body, "created_at", r.get(i, 20));
        if (params.sort == search::Sort::Distance) {
            numberMember(body, "distance_m", r.get(i, search::kColumnCount));
        }
        body += '}';
    }
    body += "],\"next_cursor\":";
    if (r.rows() > n && n > 0) {
        auto last_key = r.get(n - 1, search::kColumnCount);
        std::string ids(r.get(n - 1, 0));
        if (params.sort == search::Sort::Distance) {
            ids.clear();
            for (std::size_t i = 0; i < n; ++i) {
                if (r.get(i, search::kColumnCount) == last_key) {
                    ids += (ids.empty() ? "" : ",") + std::string(r.get(i, 0));
                }
            }
        }
        appendString(body, search::encodeCursor(params.sort, last_key, ids));
    } else {
        body += "null";
    }
    if (!params.facets.empty()) {
        auto fr = co_await search::run(reads_, search::facetsQuery(params));
        body += ",\"facets\":{";
        for (const auto& facet : params.facets) {
            appendField(body, facet);
            body += '{';
            bool first = true;
            for (std::size_t i = 0; i < fr.rows(); ++i) {
                if (fr.get(i, 0) != facet) {
                    continue;
                }
                body += first ? "" : ",";
                first = false;
                appendString(body, fr.get(i, 1));
                body += ':';
                appendNumber(body, fr.get(i, 2));
            }
            body += '}';
        }
        body += '}';
    }
    body += '}';
    co_return rt::Response::json(200, std::move(body));
}

rt::Task<void> applyToReadModel(rt::PgConn& tx, const rt::Event& event) {
    const std::string row = contracts::PropertyChanged::parse(event.data).listing_json;
    const std::string sql =
        "INSERT INTO property_search SELECT (property_search_row(jsonb_populate_record("
        "NULL::properties, $1::jsonb))).* ON CONFLICT (id) DO UPDATE SET " +
        std::string(kReadModelUpdate) + " WHERE property_search.version < EXCLUDED.version";
    co_await tx.query(sql, row);
}

rt::Task<std::int64_t> rebuildReadModel(rt::PgConn& tx, bool bulk) {
    // Writers wait (their events would race the copy); searches go on against the old rows.
    co_await tx.query("LOCK TABLE properties IN SHARE MODE");
    co_await tx.query("DELETE FROM property_search");
    std::vector<std::string> indexes;
    if (bulk) {
        co_await tx.query("SET LOCAL maintenance_work_mem = '256MB'");
        // The migration's own definitions, read back, so nothing here repeats them.
        auto defs = co_await tx.query(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'property_search'::regclass AND NOT indisprimary");
        for (std::size_t i = 0; i < defs.rows(); ++i) {
            indexes.emplace_back(defs.get(i, 1));
            const std::string drop = "DROP INDEX " + std::string(defs.get(i, 0));
            co_await tx.query(drop);
        }
    }
    // Stored by city, then by place (geohash): a city's or an area's rows share pages, so a
    // search reads a few hundred pages instead of one per hit.
    auto r = co_await tx.query(
        "INSERT INTO property_search SELECT (property_search_row(p)).* FROM properties p "
        "ORDER BY lower(p.city), ST_GeoHash(ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), "
        "4326), 7)");
    for (const auto& def : indexes) {
        co_await tx.query(def);
    }
    co_await tx.query("ANALYZE property_search");
    co_return static_cast<std::int64_t>(r.affected());
}

}  // namespace restinu::property
