#include "handlers.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "inbox_store.hpp"
#include "preferences.hpp"
#include "recipient_store.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "saved_search_store.hpp"
#include "templates.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;
namespace problems = rt::problems;
namespace cp = contracts::problems;
using rt::ApiError;

int limitParam(const rt::Request& req) {
    auto v = req.queryParam("limit");
    if (!v) {
        return 20;
    }
    int n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || p != v->data() + v->size() || n < 1 || n > 100) {
        throw ApiError(problems::kValidation, "limit must be 1 to 100",
                       {{"limit", "must be an integer from 1 to 100"}});
    }
    return n;
}

std::string uuidParam(const rt::Request& req, std::string_view name, std::string_view what) {
    std::string id(req.param(name));
    if (!rt::isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such " + std::string(what));
    }
    return id;
}

// A small page for a person who followed a link from an e-mail (a browser), JSON for a program.
rt::Response linkAnswer(const rt::Request& req, const std::string& title, const std::string& text,
                        const json::object& body) {
    if (req.header("Accept").find("text/html") != std::string_view::npos) {
        return {200, "text/html; charset=utf-8",
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + escapeHtml(title) +
                    "</title></head><body style=\"font-family:sans-serif\"><h1>" +
                    escapeHtml(title) + "</h1><p>" + escapeHtml(text) + "</p></body></html>\n"};
    }
    return rt::jsonResponse(200, body);
}

// A field of `o`; an error names it as `prefix` + key (e.g. "filters.city").
std::optional<std::string> optString(const json::object& o, std::string_view key, std::size_t max,
                                     std::vector<rt::FieldError>& errors,
                                     std::string_view prefix = {}) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string() || v->as_string().empty() || v->as_string().size() > max) {
        errors.push_back({std::string(prefix) + std::string(key),
                          "must be a string of 1 to " + std::to_string(max) + " characters"});
        return std::nullopt;
    }
    return std::string(v->as_string());
}

std::optional<std::int64_t> optInt(const json::object& o, std::string_view key, std::int64_t lo,
                                   std::int64_t hi, std::vector<rt::FieldError>& errors,
                                   std::string_view prefix = {}) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_int64() || v->as_int64() < lo || v->as_int64() > hi) {
        errors.push_back(
            {std::string(prefix) + std::string(key),
             "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi)});
        return std::nullopt;
    }
    return v->as_int64();
}

}  // namespace

rt::Task<rt::Response> Handlers::list(rt::Request& req) {
    const int limit = limitParam(req);
    std::optional<std::string> cursor = req.queryParam("cursor");
    if (cursor && !rt::isUuid(*cursor)) {
        throw ApiError(problems::kValidation, "cursor is not one this API gave",
                       {{"cursor", "must be the next_cursor of the previous page"}});
    }
    const auto unread = req.queryParam("unread");
    if (unread && *unread != "true" && *unread != "false") {
        throw ApiError(problems::kValidation, "unread must be true or false",
                       {{"unread", "must be true or false"}});
    }
    auto page = co_await InboxStore::list(pool_, req.identity->user_id, cursor,
                                          unread && *unread == "true", limit);
    json::array items;
    for (const auto& i : page.items) {
        items.push_back(json::parse(i.json()));
    }
    json::object out{{"items", std::move(items)}, {"unread", page.unread}};
    out["next_cursor"] = page.more ? json::value(page.items.back().id) : json::value(nullptr);
    co_return rt::jsonResponse(200, out).header("Cache-Control", "no-store");
}

rt::Task<rt::Response> Handlers::markRead(rt::Request& req) {
    const auto id = uuidParam(req, "id", "notification");
    if (!co_await InboxStore::markRead(pool_, req.identity->user_id, id)) {
        throw ApiError(problems::kNotFound, "no such notification");  // or another user's
    }
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> Handlers::markAllRead(rt::Request& req) {
    const auto n = co_await InboxStore::markAllRead(pool_, req.identity->user_id);
    co_return rt::jsonResponse(200, json::object{{"marked", n}});
}

rt::Task<rt::Response> Handlers::preferencesOf(const std::string& user_id) {
    const auto switched = co_await RecipientStore::switched(pool_, user_id);
    json::object categories;
    for (auto cat : kCategories) {
        json::object channels;
        for (auto ch : kChannels) {
            bool on = enabledByDefault(cat, ch);
            for (const auto& p : switched) {
                if (p.category == cat && p.channel == ch) {
                    on = p.enabled;
                }
            }
            channels[ch] = on || locked(cat, ch);
        }
        categories[cat] = std::move(channels);
    }
    json::array locks;
    for (auto cat : kCategories) {
        for (auto ch : kChannels) {
            if (locked(cat, ch)) {
                locks.push_back(json::string(std::string(cat) + "." + std::string(ch)));
            }
        }
    }
    co_return rt::jsonResponse(
        200, json::object{{"categories", std::move(categories)}, {"locked", std::move(locks)}})
        .header("Cache-Control", "no-store");
}

rt::Task<rt::Response> Handlers::preferences(rt::Request& req) {
    co_return co_await preferencesOf(req.identity->user_id);
}

rt::Task<rt::Response> Handlers::setPreferences(rt::Request& req) {
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    std::vector<rt::FieldError> locked_errors;
    std::vector<Preference> prefs;
    const auto* cats = body.if_contains("categories");
    if (cats == nullptr || !cats->is_object()) {
        errors.push_back({"categories", "must be an object of categories"});
    }
    for (const auto& [k, _] : body) {
        if (k != "categories") {
            errors.push_back({std::string(k), "unknown field"});
        }
    }
    if (cats != nullptr && cats->is_object()) {
        for (const auto& [cat, channels] : cats->as_object()) {
            const std::string path = "categories." + std::string(cat);
            if (!knownCategory(cat)) {
                errors.push_back({path, "unknown category"});
                continue;
            }
            if (!channels.is_object()) {
                errors.push_back({path, "must be an object of channels"});
                continue;
            }
            for (const auto& [ch, on] : channels.as_object()) {
                const std::string field = path + "." + std::string(ch);
                if (!knownChannel(ch)) {
                    errors.push_back({field, "unknown channel"});
                } else if (!on.is_bool()) {
                    errors.push_back({field, "must be true or false"});
                } else if (locked(cat, ch) && !on.as_bool()) {
                    locked_errors.push_back({field, "security messages cannot be switched off"});
                } else {
                    prefs.push_back({std::string(cat), std::string(ch), on.as_bool()});
                }
            }
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the preferences have invalid fields", errors);
    }
    if (!locked_errors.empty()) {
        throw ApiError(cp::kPreferenceLocked, "nothing was changed", locked_errors);
    }
    const std::string user_id = req.identity->user_id;
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await RecipientStore::set(tx, user_id, prefs);
    });
    co_return co_await preferencesOf(user_id);
}

rt::Task<rt::Response> Handlers::addDevice(rt::Request& req) {
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto token = optString(body, "token", 4096, errors);
    auto platform = optString(body, "platform", 16, errors);
    if (!token) {
        errors.push_back({"token", "is required (the FCM registration token)"});
    }
    if (!platform || (*platform != "android" && *platform != "ios" && *platform != "web")) {
        errors.push_back({"platform", "must be android, ios or web"});
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the device has invalid fields", errors);
    }
    co_await RecipientStore::addDevice(pool_, req.identity->user_id, *token, *platform);
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> Handlers::removeDevice(rt::Request& req) {
    const std::string token(req.param("token"));
    if (!co_await RecipientStore::removeDevice(pool_, req.identity->user_id, token)) {
        throw ApiError(problems::kNotFound, "no such device");
    }
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> Handlers::createSavedSearch(rt::Request& req) {
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    SavedSearch s;
    s.id = rt::newUuidV7();
    s.user_id = req.identity->user_id;
    auto name = optString(body, "name", 100, errors);
    if (!name) {
        errors.push_back({"name", "is required"});
    }
    for (const auto& [k, _] : body) {
        if (k != "name" && k != "filters") {
            errors.push_back({std::string(k), "unknown field"});
        }
    }
    const auto* f = body.if_contains("filters");
    if (f == nullptr || !f->is_object()) {
        errors.push_back({"filters", "must be an object"});
    } else {
        const auto& o = f->as_object();
        s.city = optString(o, "city", 100, errors, "filters.");
        s.property_type = optString(o, "type", 40, errors, "filters.");
        s.min_price = optInt(o, "min_price", 0, 1'000'000'000'000'000, errors, "filters.");
        s.max_price = optInt(o, "max_price", 0, 1'000'000'000'000'000, errors, "filters.");
        s.currency = optString(o, "currency", 3, errors, "filters.");
        s.min_bedrooms = optInt(o, "min_bedrooms", 0, 50, errors, "filters.");
        for (const auto& [k, _] : o) {
            if (k != "city" && k != "type" && k != "min_price" && k != "max_price" &&
                k != "currency" && k != "min_bedrooms") {
                errors.push_back({"filters." + std::string(k), "unknown filter"});
            }
        }
        if ((s.min_price || s.max_price) && !s.currency) {
            errors.push_back({"filters.currency", "is required with a price"});
        }
        if (s.min_price && s.max_price && *s.min_price > *s.max_price) {
            errors.push_back({"filters.max_price", "must not be below min_price"});
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the saved search has invalid fields", errors);
    }
    s.name = *name;
    if (!co_await SavedSearchStore::create(pool_, s, saved_search_limit_)) {
        throw ApiError(
            cp::kTooManySavedSearches,
            "delete one of your " + std::to_string(saved_search_limit_) + " saved searches first");
    }
    auto stored = co_await SavedSearchStore::list(pool_, s.user_id);
    for (const auto& one : stored) {
        if (one.id == s.id) {
            co_return rt::Response::json(201, one.json())
                .header("Location", "/api/v1/saved-searches/" + s.id);
        }
    }
    throw ApiError(problems::kNotFound, "the saved search was deleted meanwhile");
}

rt::Task<rt::Response> Handlers::savedSearches(rt::Request& req) {
    auto all = co_await SavedSearchStore::list(pool_, req.identity->user_id);
    json::array items;
    for (const auto& s : all) {
        items.push_back(json::parse(s.json()));
    }
    co_return rt::jsonResponse(200, json::object{{"items", std::move(items)}});
}

rt::Task<rt::Response> Handlers::deleteSavedSearch(rt::Request& req) {
    const auto id = uuidParam(req, "id", "saved search");
    if (!co_await SavedSearchStore::remove(pool_, req.identity->user_id, id)) {
        throw ApiError(problems::kNotFound, "no such saved search");
    }
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> Handlers::verifyEmail(rt::Request& req) {
    const auto token = req.queryParam("token").value_or("");
    auto v = links_.verification(token, rt::unixSeconds());
    if (!v) {
        throw ApiError(cp::kInvalidLink, "this verification link is not valid or has expired");
    }
    // The user service marks the address verified from the event (if it is still theirs).
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        const contracts::EmailVerified verified{v->user_id, v->email};
        auto event = rt::makeEvent(std::string(verified.kType),
                                   std::string(contracts::kNotificationAggregate), v->user_id,
                                   verified.data());
        co_await rt::enqueueEvent(tx, event);
    });
    co_return linkAnswer(req, "E-mail verified",
                         v->email + " is verified. You can close this page.",
                         json::object{{"verified", true}, {"email", v->email}});
}

rt::Task<rt::Response> Handlers::unsubscribe(rt::Request& req) {
    const auto token = req.queryParam("token").value_or("");
    auto u = links_.unsubscribe(token);
    if (!u || !knownCategory(u->category)) {
        throw ApiError(cp::kInvalidLink, "this unsubscribe link is not valid");
    }
    const std::vector<Preference> off{{u->category, "email", false}};
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await RecipientStore::set(tx, u->user_id, off);
    });
    co_return linkAnswer(req, "Unsubscribed",
                         "You will no longer receive these e-mails (" + u->category + ").",
                         json::object{{"unsubscribed", true}, {"category", u->category}});
}

}  // namespace restinu::notification
