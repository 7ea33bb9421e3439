#pragma once

#include <string>
#include <vector>

#include "search_query.hpp"

namespace restinu::property::search {

/// The JSON answer to a search: the first `p.limit` rows of `page` (pageQuery's result, read
/// by column name) as items, `next_cursor` when the query found one row more, and the counts of
/// `facets` (facetsQuery's result; null when none were asked). Written straight from the
/// result's text: PostgreSQL's output for integers, floats and array_to_json is JSON already,
/// so nothing is parsed and built again (a page is a few hundred values; building them as
/// boost::json nodes was most of the service's time).
std::string pageJson(const Params& p, const rt::PgResult& page, const rt::PgResult* facets);

/// Each row's item as pageJson writes it (no distance), for the in-memory index. The result
/// has kColumns and a `cursor_key` column.
std::vector<std::string> itemsJson(const rt::PgResult& rows);

/// A page of items written before (itemsJson) and its next cursor (null: the last page).
std::string pageFromItems(const std::vector<const std::string*>& items,
                          const std::string* next_cursor);

}  // namespace restinu::property::search
