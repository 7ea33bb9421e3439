#pragma once

#include <string>
#include <string_view>

#include "listing_store.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/task.hpp"
#include "restinu/rt/write_context.hpp"

namespace restinu::rt {
class PgConn;
}  // namespace restinu::rt

/// A listing's photos on the write model: the `images` array of its row (migration 0007), in
/// display order, changed one version up with its property.image_* event and audit row in the
/// caller's transaction. The files themselves are in the blob store (blob_store.hpp), named by
/// the upload's SHA-256; who may still use them is asked here.
namespace restinu::property {

class ImageStore {
public:
    /// Serialises every change that stores or removes the files of the photo `sha256` (an
    /// upload on one listing against a removal on another) until the transaction ends.
    static rt::Task<void> lockPhoto(rt::PgConn& tx, const std::string& sha256);

    /// True when some listing's photos still include `sha256`.
    static rt::Task<bool> photoInUse(rt::PgConn& tx, const std::string& sha256);

    /// Writes `images_json` (the whole array) over `before`'s, one version up, with `event`
    /// (its version filled in here) and an audit row `action`.
    static rt::Task<StoredListing> setImages(rt::PgConn& tx, const StoredListing& before,
                                             const std::string& images_json,
                                             std::string_view event_type,
                                             contracts::PropertyImageChanged event,
                                             std::string_view action, const rt::WriteContext& ctx);
};

}  // namespace restinu::property
