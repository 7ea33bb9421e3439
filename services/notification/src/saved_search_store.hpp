#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// Saved searches: a user's filters, and the alert a new matching listing sends them (at most
/// once a day per search).
namespace restinu::notification {

struct SavedSearch {
    std::string id;
    std::string user_id;
    std::string name;
    std::optional<std::string> city;
    std::optional<std::string> property_type;
    std::optional<std::int64_t> min_price;  ///< minor units of `currency`
    std::optional<std::int64_t> max_price;
    std::optional<std::string> currency;
    std::optional<std::int64_t> min_bedrooms;
    std::string created_at;
    std::string json() const;
};

/// What a listing offers to a search.
struct ListingFacts {
    std::string id;
    std::string owner_id;
    std::string title;
    std::string city;
    std::string property_type;
    std::int64_t price_minor = 0;
    std::string currency;
    std::int64_t bedrooms = 0;
};

class SavedSearchStore {
public:
    /// At most `limit` searches per user; false (nothing stored) when they have that many.
    static rt::Task<bool> create(rt::PgPool& pool, const SavedSearch& s, int limit);
    static rt::Task<std::vector<SavedSearch>> list(rt::PgPool& pool, const std::string& user_id);
    static rt::Task<bool> remove(rt::PgPool& pool, const std::string& user_id,
                                 const std::string& id);
    /// The searches `listing` matches whose owner was not told in the last day (nor owns the
    /// listing), each marked told in the caller's transaction.
    static rt::Task<std::vector<SavedSearch>> takeMatches(rt::PgConn& tx,
                                                          const ListingFacts& listing);
};

}  // namespace restinu::notification
