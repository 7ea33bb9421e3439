#pragma once

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
class PgConn;
struct Event;
}  // namespace restinu::rt

namespace restinu::property {

/// Listings on the write model (`properties`) and search on the read model
/// (`property_search`). Who the caller is comes from the gateway's signed identity
/// (`req.identity`): agents and admins create; the owner or an admin changes or withdraws.
class ListingHandlers {
public:
    /// Writes go to `primary`; searches and reads may go to `reads` (a replica or the primary).
    ListingHandlers(rt::PgPool& primary, rt::PgPool& reads);

    rt::Task<rt::Response> create(rt::Request& req);    // POST /api/v1/properties
    rt::Task<rt::Response> get(rt::Request& req);       // GET /api/v1/properties/{id}
    rt::Task<rt::Response> update(rt::Request& req);    // PATCH /api/v1/properties/{id}
    rt::Task<rt::Response> withdraw(rt::Request& req);  // DELETE /api/v1/properties/{id}
    rt::Task<rt::Response> search(rt::Request& req);    // GET /api/v1/properties

private:
    rt::Task<rt::Response> change(rt::Request& req, bool withdrawing);

    rt::PgPool& primary_;
    rt::PgPool& reads_;
};

/// The projection: applies one `property.*` event to the read model in the consumer's
/// transaction. Idempotent and order-safe: a row only moves to a higher version.
rt::Task<void> applyToReadModel(rt::PgConn& tx, const rt::Event& event);

/// Rebuilds the read model from the write model in one transaction: writers wait, and readers
/// keep the old rows until it commits. `bulk` drops the read model's indexes and builds them
/// again after the copy (several times faster for a large table, but searches wait too).
/// Returns the number of listings.
rt::Task<std::int64_t> rebuildReadModel(rt::PgConn& tx, bool bulk = false);

}  // namespace restinu::property
