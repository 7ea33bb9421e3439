#include "image_store.hpp"

#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::property {

rt::Task<void> ImageStore::lockPhoto(rt::PgConn& tx, const std::string& sha256) {
    co_await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('restinu image ' || $1, 0))",
                      sha256);
}

rt::Task<bool> ImageStore::photoInUse(rt::PgConn& tx, const std::string& sha256) {
    // jsonb containment: answered by the GIN index (jsonb_path_ops) of migration 0007.
    auto r = co_await tx.query(
        "SELECT EXISTS (SELECT 1 FROM properties WHERE images @> "
        "jsonb_build_array(jsonb_build_object('sha256', $1::text)))",
        sha256);
    co_return r.get(0, 0) == "t";
}

rt::Task<StoredListing> ImageStore::setImages(rt::PgConn& tx, const StoredListing& before,
                                              const std::string& images_json,
                                              std::string_view event_type,
                                              contracts::PropertyImageChanged event,
                                              std::string_view action,
                                              const rt::WriteContext& ctx) {
    const std::string sql =
        "UPDATE properties p SET images = $2::jsonb, version = version + 1, updated_at = now() "
        "WHERE id = $1::uuid RETURNING " +
        std::string(ListingStore::columns());
    auto r = co_await tx.query(sql, before.id, images_json);
    auto after = ListingStore::read(r, 0);
    event.listing_id = before.id;
    event.version = after.version;
    auto e = rt::makeEvent(std::string(event_type), std::string(contracts::kPropertyAggregate),
                           before.id, event.data(), ctx.traceparent);
    co_await rt::enqueueEvent(tx, e);
    co_await rt::audit(tx, ctx.actor, action, "property", before.id, ctx.request_id);
    co_return after;
}

}  // namespace restinu::property
