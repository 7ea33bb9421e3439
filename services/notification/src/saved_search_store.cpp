#include "saved_search_store.hpp"

#include <array>
#include <boost/json.hpp>

#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;

constexpr std::string_view kColumns =
    "id::text AS id, user_id::text AS user_id, name, city, property_type, min_price, max_price, "
    "currency, min_bedrooms, restinu_iso(created_at) AS created_at";

std::vector<SavedSearch> readSearches(const rt::PgResult& r) {
    static constexpr std::array<std::string_view, 10> kNames = {
        "id",        "user_id",   "name",     "city",         "property_type",
        "min_price", "max_price", "currency", "min_bedrooms", "created_at"};
    const auto c = rt::requireColumns(r, kNames);
    std::vector<SavedSearch> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        SavedSearch s;
        s.id = r.get(i, c[0]);
        s.user_id = r.get(i, c[1]);
        s.name = r.get(i, c[2]);
        auto text = [&](int col) -> std::optional<std::string> {
            auto v = r.opt(i, col);
            return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
        };
        auto number = [&](int col) -> std::optional<std::int64_t> {
            return r.isNull(i, col) ? std::nullopt : std::optional<std::int64_t>(r.getInt(i, col));
        };
        s.city = text(c[3]);
        s.property_type = text(c[4]);
        s.min_price = number(c[5]);
        s.max_price = number(c[6]);
        s.currency = text(c[7]);
        s.min_bedrooms = number(c[8]);
        s.created_at = r.get(i, c[9]);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace

std::string SavedSearch::json() const {
    auto opt = [](const auto& v) -> json::value { return v ? json::value(*v) : json::value(); };
    json::object filters{{"city", opt(city)},           {"type", opt(property_type)},
                         {"min_price", opt(min_price)}, {"max_price", opt(max_price)},
                         {"currency", opt(currency)},   {"min_bedrooms", opt(min_bedrooms)}};
    return json::serialize(json::object{
        {"id", id}, {"name", name}, {"filters", std::move(filters)}, {"created_at", created_at}});
}

rt::Task<bool> SavedSearchStore::create(rt::PgPool& pool, const SavedSearch& s, int limit) {
    // The count and the insert in one statement (two requests at the same instant may both
    // pass: the limit bounds what one user can store, it is not an exact quota).
    auto r = co_await pool.execute(
        "notification_saved_search_create",
        "INSERT INTO saved_searches (id, user_id, name, city, property_type, min_price, "
        "max_price, currency, min_bedrooms) SELECT $1::uuid, $2::uuid, $3, $4, $5, $6::bigint, "
        "$7::bigint, $8, $9::int WHERE "
        "(SELECT count(*) FROM saved_searches WHERE user_id = $2::uuid) < $10",
        s.id, s.user_id, s.name, s.city, s.property_type, s.min_price, s.max_price, s.currency,
        s.min_bedrooms, limit);
    co_return r.affected() == 1;
}

rt::Task<std::vector<SavedSearch>> SavedSearchStore::list(rt::PgPool& pool,
                                                          const std::string& user_id) {
    const std::string sql = "SELECT " + std::string(kColumns) +
                            " FROM saved_searches WHERE user_id = $1::uuid ORDER BY created_at";
    auto r = co_await pool.execute("notification_saved_search_list", sql, user_id);
    co_return readSearches(r);
}

rt::Task<bool> SavedSearchStore::remove(rt::PgPool& pool, const std::string& user_id,
                                        const std::string& id) {
    auto r = co_await pool.execute(
        "notification_saved_search_remove",
        "DELETE FROM saved_searches WHERE id = $1::uuid AND user_id = $2::uuid", id, user_id);
    co_return r.affected() == 1;
}

rt::Task<std::vector<SavedSearch>> SavedSearchStore::takeMatches(rt::PgConn& tx,
                                                                 const ListingFacts& l) {
    const std::string sql =
        "UPDATE saved_searches SET last_notified_at = now() WHERE id IN (SELECT id FROM "
        "saved_searches WHERE (city IS NULL OR lower(city) = lower($1)) "
        "AND (property_type IS NULL OR property_type = $2) "
        "AND (currency IS NULL OR currency = $4) "
        "AND (min_price IS NULL OR min_price <= $3::bigint) "
        "AND (max_price IS NULL OR max_price >= $3::bigint) "
        "AND (min_bedrooms IS NULL OR min_bedrooms <= $5::int) "
        "AND user_id <> $6::uuid "
        "AND (last_notified_at IS NULL OR last_notified_at < now() - interval '1 day') "
        "FOR UPDATE SKIP LOCKED) RETURNING " +
        std::string(kColumns);
    auto r = co_await tx.execute("notification_saved_search_matches", sql, l.city, l.property_type,
                                 l.price_minor, l.currency, l.bedrooms, l.owner_id);
    co_return readSearches(r);
}

}  // namespace restinu::notification
