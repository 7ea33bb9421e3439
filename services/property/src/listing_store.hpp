#pragma once

#include <optional>
#include <string>
#include <vector>

#include "listing.hpp"
#include "restinu/rt/task.hpp"
#include "restinu/rt/write_context.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
class PgResult;
}  // namespace restinu::rt

/// The listing aggregate on the write model (table properties): its SQL, its row mapping (by
/// column name) and its property.* events, written in the caller's transaction with the row.
namespace restinu::property {

/// A listing as stored: the fields, who owns it, its version (the ETag) and times.
struct StoredListing {
    std::string id;
    std::string owner_id;
    domain::Listing listing;
    int version = 0;
    std::string created_at;
    std::string updated_at;
    std::string row_json;  ///< the whole row as JSON: what the events carry to the read model
    std::string images_json = "[]";   ///< its photos in display order (image_store.hpp)
    std::string vastu_json = "null";  ///< its latest Vastu certificate's summary (vastu_store.hpp)
    std::string token_json = "null";  ///< its deed and shares once tokenized (property.tokenized)
};

class ListingStore {
public:
    explicit ListingStore(rt::PgPool& reads) : reads_(reads) {}

    rt::Task<std::optional<StoredListing>> find(const std::string& id);

    /// One page of `owner_id`'s listings in any status (or only `status`), newest first: at
    /// most `limit` of them, after the owner's listing `after_id` when set (a keyset page on
    /// the index (owner_id, created_at); the cursor's listing found whoever owns it now). From
    /// `pool`: the primary, so an agent's listing made a moment ago is on the page.
    static rt::Task<std::vector<StoredListing>> ownedBy(rt::PgPool& pool, std::string owner_id,
                                                        std::optional<std::string> status,
                                                        std::optional<std::string> after_id,
                                                        int limit);

    /// Inserts a listing owned by `owner_id`, with its property.created event and audit row.
    static rt::Task<StoredListing> insert(rt::PgConn& tx, const std::string& id,
                                          const std::string& owner_id,
                                          const domain::Listing& listing,
                                          const rt::WriteContext& ctx);
    /// The listing, locked for a change until the transaction ends; nullopt when none.
    static rt::Task<std::optional<StoredListing>> lock(rt::PgConn& tx, const std::string& id);
    /// Writes `listing` over `before` (one version up) with its event (updated, status_changed
    /// or withdrawn) and audit row (`action`).
    static rt::Task<StoredListing> update(rt::PgConn& tx, const StoredListing& before,
                                          const domain::Listing& listing, std::string_view action,
                                          const rt::WriteContext& ctx);

    /// Gives the listing to `owner_id` (a completed sale), one version up, with its
    /// property.updated event and audit row.
    static rt::Task<StoredListing> setOwner(rt::PgConn& tx, const StoredListing& before,
                                            const std::string& owner_id, std::string_view action,
                                            const rt::WriteContext& ctx);

    /// Records the listing's token data (`token_json`, from property.tokenized), one version up
    /// with its property.updated event; nullopt when there is no such listing or it says so
    /// already (a redelivered event).
    static rt::Task<std::optional<StoredListing>> setToken(rt::PgConn& tx, const std::string& id,
                                                           const std::string& token_json,
                                                           const rt::WriteContext& ctx);

    /// The select list that read() maps (a FROM properties p), for other stores of the aggregate.
    static std::string_view columns();
    static StoredListing read(const rt::PgResult& r, std::size_t row);

private:
    rt::PgPool& reads_;
};

}  // namespace restinu::property
