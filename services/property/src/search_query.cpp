#include "search_query.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "listing.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/jwt.hpp"

namespace restinu::property::search {
namespace {
std::string arrayLiteral(const std::vector<std::string>& values) {
    // Only ever called with values checked against a fixed vocabulary.
    std::string out = "{";
    for (const auto& v : values) {
        out += out.size() > 1 ? "," : "";
        out += v;
    }
    return out + "}";
}

// Appends a bound parameter to `sql`; its placeholder ($1, $2, ...).
std::string param(Sql& sql, rt::PgParam v) {
    sql.params.push_back(std::move(v));
    return "$" + std::to_string(sql.params.size());
}

// The WHERE clause of the filters (no cursor), appending bound parameters to `sql`; without
// the words' match if `with_text` is false (pageQuery's relevance walk applies it itself).
std::string filters(const Params& p, Sql& sql, bool with_text = true) {
    // The literal IN (...) lets the planner use the partial indexes.
    std::string w = "status IN ('active', 'reserved', 'sold') AND status = ANY(" +
                    param(sql, arrayLiteral(p.statuses)) + "::text[])";
    if (p.text && with_text) {
        w += " AND document @@ websearch_to_tsquery('english', " + param(sql, *p.text) + ")";
    }
    if (p.city) {
        w += " AND city_key = lower(" + param(sql, *p.city) + ")";
    }
    if (!p.property_types.empty()) {
        w += " AND property_type = ANY(" + param(sql, arrayLiteral(p.property_types)) + "::text[])";
    }
    if (p.listing_type) {
        w += " AND listing_type = " + param(sql, *p.listing_type);
    }
    if (p.min_price || p.max_price) {
        w += " AND currency = " + param(sql, p.currency);
    }
    if (p.min_price) {
        w += " AND price_minor >= " + param(sql, *p.min_price) + "::bigint";
    }
    if (p.max_price) {
        w += " AND price_minor <= " + param(sql, *p.max_price) + "::bigint";
    }
    if (p.min_bedrooms) {
        w += " AND bedrooms >= " + param(sql, *p.min_bedrooms) + "::int";
    }
    if (p.min_bathrooms) {
        w += " AND bathrooms >= " + param(sql, *p.min_bathrooms) + "::int";
    }
    if (p.min_area) {
        w += " AND area_sqft >= " + param(sql, *p.min_area) + "::int";
    }
    if (p.max_area) {
        w += " AND area_sqft <= " + param(sql, *p.max_area) + "::int";
    }
    if (p.min_vastu_score) {
        // The partial index holds certified listings only; saying so lets the planner use it.
        w += " AND vastu_score IS NOT NULL AND vastu_score >= " + param(sql, *p.min_vastu_score) +
             "::int";
    }
    if (p.near && p.radius_km) {
        // Great-circle distance on the sphere (use_spheroid false): within 0.3% of the
        // ellipsoid, and what the distance sort shows.
        w += " AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint(" + param(sql, p.near->second) +
             "::float8, " + param(sql, p.near->first) + "::float8), 4326)::geography, " +
             param(sql, *p.radius_km * 1000.0) + "::float8, false)";
    }
    if (p.bbox) {
        auto a = param(sql, p.bbox->min_lng);
        auto b = param(sql, p.bbox->min_lat);
        auto c = param(sql, p.bbox->max_lng);
        auto d = param(sql, p.bbox->max_lat);
        w += " AND geog::geometry && ST_MakeEnvelope(" + a + "::float8, " + b + "::float8, " + c +
             "::float8, " + d + "::float8, 4326) AND longitude BETWEEN " + a + "::float8 AND " + c +
             "::float8 AND latitude BETWEEN " + b + "::float8 AND " + d + "::float8";
    }
    return w;
}

// Relevance: listings whose title and locality alone answer the words (the document's A and B
// weights: the "headline" tier) before those that need their description, newest first within
// each tier. Both orders follow the newest-first indexes, so a page never ranks every match:
// each tier walks the newest `window` rows that pass the other filters and keeps the matches;
// only when those hold fewer than a page (the words are rare among recent listings) does it
// read all of that tier's matches from a GIN index, which is then cheap because they are few.
// One statement; the one-time filters skip the parts a page does not need.
Sql relevanceQuery(const Params& p) {
    Sql sql;
    auto base = filters(p, sql, false);
    // A subquery, so a generic plan parses the words once, not once per row.
    auto words = "(SELECT websearch_to_tsquery('english', " + param(sql, *p.text) + "))";
    auto match = "document @@ " + words;
    auto headline = "ts_filter(document, '{a,b}') @@ " + words;
    auto n = param(sql, p.limit + 1) + "::int";
    auto window = param(sql, p.relevance_window > 0 ? p.relevance_window
                                                    : std::max(500, 25 * (p.limit + 1))) +
                  "::int";
    int first_tier = 0;
    std::string keyset;
    if (p.after) {
        first_tier = p.after->first[0] - '0';
        keyset = " AND (created_at, id) < (" + param(sql, p.after->first.substr(2)) +
                 "::timestamptz, " + param(sql, p.after->second) + "::uuid)";
    }
    const std::string newest = " ORDER BY created_at DESC, id DESC";
    auto append = [](std::string& out, std::initializer_list<std::string_view> parts) {
        for (auto part : parts) {
            out += part;
        }
    };
    std::string with;
    std::string tiers;
    for (int tier = first_tier; tier <= 1; ++tier) {
        auto t = std::to_string(tier);
        std::string cond = match;
        append(cond, {tier == 0 ? " AND " : " AND NOT (", headline, tier == 0 ? "" : ")"});
        std::string where = base;
        where += tier == first_tier ? keyset : "";
        // The second tier runs only if the first left the page short.
        std::string gate;
        if (tier == 1 && first_tier == 0) {
            append(gate, {" AND (SELECT count(*) FROM r0) < ", n});
        }
        // w: the matches among the newest `window` rows; a: every match (read only when w is
        // short); r: whichever answers.
        append(with, {with.empty() ? "WITH " : ", ",
                      "w",
                      t,
                      " AS MATERIALIZED (SELECT * FROM (SELECT * FROM property_search WHERE ",
                      where,
                      gate,
                      newest,
                      " LIMIT ",
                      window,
                      ") w WHERE ",
                      cond,
                      newest,
                      " LIMIT ",
                      n,
                      "), a",
                      t,
                      " AS MATERIALIZED (SELECT * FROM property_search WHERE ",
                      where,
                      " AND ",
                      cond,
                      gate,
                      "), r",
                      t,
                      " AS (SELECT * FROM w",
                      t,
                      " WHERE (SELECT count(*) FROM w",
                      t,
                      ") >= ",
                      n,
                      " UNION ALL (SELECT * FROM a",
                      t,
                      " WHERE (SELECT count(*) FROM w",
                      t,
                      ") < ",
                      n,
                      newest,
                      " LIMIT ",
                      n,
                      "))"});
        append(tiers, {tiers.empty() ? "" : " UNION ALL ", "SELECT ", t, " AS tier, * FROM r", t});
    }
    sql.prepare = true;
    append(sql.text,
           {with, " SELECT ", kColumns, ", tier || '/' || created_at::text AS cursor_key FROM (",
            tiers, ") s ORDER BY tier, created_at DESC, id DESC LIMIT ", n});
    return sql;
}

}  // namespace

std::string Sql::statementName() const {
    const auto h = rt::fnv1a64(text);
    char out[24];
    std::snprintf(out, sizeof out, "search_%016llx", static_cast<unsigned long long>(h));
    return out;
}

rt::Task<rt::PgResult> run(rt::PgPool& pool, Sql sql) {
    if (!sql.prepare) {
        co_return co_await pool.query(sql.text, std::move(sql.params));
    }
    auto name = sql.statementName();
    co_return co_await pool.execute(name, sql.text, std::move(sql.params));
}

Sql pageQuery(const Params& p) {
    if (p.sort == Sort::Relevance) {
        return relevanceQuery(p);
    }
    Sql sql;
    auto where = filters(p, sql);
    std::string key;
    std::string key_type;
    bool descending = false;
    switch (p.sort) {
        case Sort::Newest:
            key = "created_at";
            key_type = "timestamptz";
            descending = true;
            break;
        case Sort::PriceAsc:
        case Sort::PriceDesc:
            key = "price_minor";
            key_type = "bigint";
            descending = p.sort == Sort::PriceDesc;
            break;
        case Sort::Distance:
            // The GiST index's own distance (the sphere), so the scan comes in distance order
            // and stops after a page (KNN).
            key = "(geog <-> ST_SetSRID(ST_MakePoint(" + param(sql, p.near->second) + "::float8, " +
                  param(sql, p.near->first) + "::float8), 4326)::geography)";
            key_type = "float8";
            break;
        case Sort::Relevance:  // relevanceQuery
            break;
    }
    std::string keyset;
    if (p.after) {
        auto k = param(sql, p.after->first) + "::" + key_type;
        if (p.sort == Sort::Distance) {
            // PostgreSQL 15 orders a KNN scan by the distance alone, so ties are broken by
            // remembering the ids already shown at the last distance (see encodeCursor).
            keyset = " AND (" + key + " > " + k + " OR (" + key + " = " + k + " AND id <> ALL(" +
                     param(sql, "{" + p.after->second + "}") + "::uuid[])))";
        } else {
            auto id = param(sql, p.after->second) + "::uuid";
            keyset = std::string(" AND (sort_key, id) ") + (descending ? "<" : ">") + " (" + k +
                     ", " + id + ")";
        }
    }
    auto limit = param(sql, p.limit + 1) + "::int";
    if (p.sort == Sort::Distance) {
        sql.text = "SELECT " + std::string(kColumns) +
                   ", sort_key::text AS cursor_key FROM (SELECT *, " + key +
                   " AS sort_key FROM property_search WHERE " + where + keyset +
                   " ORDER BY sort_key LIMIT " + limit + ") s ORDER BY sort_key, id";
        return sql;
    }
    std::string order = descending ? "sort_key DESC, id DESC" : "sort_key ASC, id ASC";
    sql.text = "SELECT " + std::string(kColumns) +
               ", sort_key::text AS cursor_key FROM (SELECT *, " + key +
               " AS sort_key FROM property_search WHERE " + where + ") s WHERE true" + keyset +
               " ORDER BY " + order + " LIMIT " + limit;
    return sql;
}

Sql facetsQuery(const Params& p) {
    Sql sql;
    if (p.facets.empty()) {
        return sql;
    }
    auto where = filters(p, sql);
    // One scan for every facet asked: GROUPING SETS counts each requested column under the
    // same filters; grouping() tells which set a row belongs to. Cities are the top 20 by
    // count, bedrooms in numeric order, property and listing types by count.
    // grouping() may only name the columns grouped by, so the expressions that say which
    // facet a row counts (and its key) name only the requested ones.
    std::string sets;
    std::string facet_case;
    std::string key_case;
    for (std::size_t i = 0; i < p.facets.size(); ++i) {
        const auto& f = p.facets[i];
        std::string column = f == "type" ? "property_type" : f;  // listing_type, bedrooms, city
        std::string key = f == "bedrooms" ? "bedrooms::text" : column;
        sets.append(i == 0 ? "(" : ", (").append(column).append(")");
        if (i + 1 < p.facets.size()) {
            facet_case.append(" WHEN grouping(").append(column).append(") = 0 THEN '");
            facet_case.append(f).append("'");
            key_case.append(" WHEN grouping(").append(column).append(") = 0 THEN ").append(key);
        } else if (i == 0) {
            facet_case.append("'").append(f).append("'");
            key_case = key;
        } else {
            facet_case.insert(0, "CASE").append(" ELSE '").append(f).append("' END");
            key_case.insert(0, "CASE").append(" ELSE ").append(key).append(" END");
        }
    }
    sql.text =
        "SELECT facet, key, n FROM (SELECT facet, key, n, row_number() OVER (PARTITION BY facet "
        "ORDER BY CASE WHEN facet = 'bedrooms' THEN bedrooms END, n DESC, key) AS rank FROM "
        "(SELECT " +
        facet_case + " AS facet, " + key_case +
        " AS key, min(bedrooms) AS bedrooms, count(*) AS n FROM property_search WHERE " + where +
        " GROUP BY GROUPING SETS (" + sets +
        ")) g) r WHERE facet <> 'city' OR rank <= 20 ORDER BY facet, rank";
    return sql;
}

}  // namespace restinu::property::search
