#pragma once

#include "listing_store.hpp"
#include "read_model.hpp"
#include "restinu/rt/cache.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"
#include "search_index.hpp"

namespace restinu::rt {
class PgPool;
}  // namespace restinu::rt

namespace restinu::property {

/// Listings on the write model (`properties`) and search on the read model
/// (`property_search`). Who the caller is comes from the gateway's signed identity
/// (`req.identity`) and the route's rule: agents and admins create (the rule); the owner or an
/// admin changes or withdraws (decided here, against the row).
class ListingHandlers {
public:
    /// Writes go to `primary`; searches and reads may go to `reads` (a replica or the primary).
    /// A listing by id and search pages are answered through `cache`, kept for `policy`; the
    /// searches `index` answers (when set) are computed in memory instead of by PostgreSQL.
    ListingHandlers(rt::PgPool& primary, rt::PgPool& reads, rt::Cache& cache,
                    rt::CachePolicy policy, search::MemoryIndex* index);

    rt::Task<rt::Response> create(rt::Request& req);    // POST /api/v1/properties
    rt::Task<rt::Response> get(rt::Request& req);       // GET /api/v1/properties/{id}
    rt::Task<rt::Response> update(rt::Request& req);    // PATCH /api/v1/properties/{id}
    rt::Task<rt::Response> withdraw(rt::Request& req);  // DELETE /api/v1/properties/{id}
    rt::Task<rt::Response> search(rt::Request& req);    // GET /api/v1/properties
    rt::Task<rt::Response> mine(rt::Request& req);      // GET /api/v1/users/me/listings

private:
    rt::Task<rt::Response> change(rt::Request& req, bool withdrawing);

    rt::PgPool& primary_;
    rt::PgPool& reads_;
    ListingStore listings_;
    rt::Cache& cache_;
    rt::CachePolicy policy_;
    search::MemoryIndex* index_;
};

}  // namespace restinu::property
