#pragma once

#include <memory>
#include <optional>
#include <string>

#include "restinu/rt/task.hpp"
#include "views.hpp"

namespace restinu::rt {
class HttpClient;
}

/// The deeds' metadata (ERC-721 metadata JSON) and where it is kept: content-addressed by its
/// CID (cid.hpp), so `ipfs://<CID>` names exactly these bytes wherever they are served from.
namespace restinu::blockchain {

/// The deed's metadata for a listing: name, description, image (the first photo's large
/// rendition, as an absolute URL under `app_url`), external_url, and attributes (city, type,
/// bedrooms, area) plus the property's id. Keys in a fixed order, so equal facts give equal
/// bytes and so the same CID.
std::string deedMetadata(const ListingView& listing, const std::string& app_url);

class MetadataStore {
public:
    virtual ~MetadataStore() = default;
    /// Stores `bytes` and returns their CID (computed here, and checked against the store's own
    /// answer where it gives one).
    virtual rt::Task<std::string> put(std::string bytes) = 0;
    /// The bytes stored under `cid`, or nullopt.
    virtual rt::Task<std::optional<std::string>> get(std::string cid) = 0;
};

/// A folder of files named by CID, written by rename (a reader never sees half a file), on the
/// runtime's file threads. The default.
std::unique_ptr<MetadataStore> localMetadataStore(std::string dir);

/// An IPFS node's HTTP API (Kubo's /api/v0/add with cid-version=1 and raw leaves, pinned; and
/// /api/v0/cat), at `url` (http://HOST:PORT). A node that answers another CID than ours is an
/// error: the deed would point at something else.
std::unique_ptr<MetadataStore> ipfsMetadataStore(rt::HttpClient& http, std::string url);

}  // namespace restinu::blockchain
