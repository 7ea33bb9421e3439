#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image_pipeline.hpp"
#include "listing_store.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class Cache;
class Config;
class PgPool;
class Shard;
class WorkerPool;
}  // namespace restinu::rt

/// A listing's photos (docs/images.md): upload (decoded, checked and resized on the worker
/// pool), reorder, delete, and their renditions served at immutable, content-named URLs.
namespace restinu::property {

namespace images {
class BlobStore;
}

/// `property.images.*` (docs/configuration.md).
struct ImageSettings {
    std::uint64_t max_bytes = std::uint64_t{25} << 20;  ///< an upload's body limit
    images::Limits limits;
    std::int64_t max_per_listing = 40;
    /// The photo workers (a pool of their own, so that uploads never queue behind or ahead of
    /// other CPU work): threads, and photos waiting or in work before an upload is 503.
    int threads = 2;
    std::int64_t queue_limit = 4;
    std::vector<images::RenditionSpec> renditions = images::defaultRenditions();
    std::string storage = "local";    ///< "local" or "s3"
    std::string dir = "data/images";  ///< local: where the files are kept
    std::string work_dir;             ///< where renditions are made; empty: the system's temp
    std::string s3_endpoint;          ///< s3: http(s)://host:port
    std::string s3_bucket;
    std::string s3_region = "us-east-1";
    std::string s3_access_key;
    std::string s3_secret_key;
};
ImageSettings readImageSettings(rt::Config& c);

class ImageHandlers {
public:
    ImageHandlers(rt::PgPool& primary, rt::Cache& cache, rt::WorkerPool& workers,
                  images::BlobStore& blobs, ImageSettings settings);

    rt::Task<rt::Response> upload(rt::Request& req);   // POST /api/v1/properties/{id}/images
    rt::Task<rt::Response> reorder(rt::Request& req);  // PATCH /api/v1/properties/{id}/images
    rt::Task<rt::Response> remove(rt::Request& req);   // DELETE .../images/{image_id}
    rt::Task<rt::Response> file(rt::Request& req);     // GET /api/v1/images/{name}

private:
    /// The listing `id` if the caller may change its photos: 404 when it does not exist or
    /// the caller may not see it, 403 when they may see it but not change it.
    rt::Task<StoredListing> changeable(const std::string& id, const rt::Identity& who);

    rt::PgPool& primary_;
    ListingStore listings_;
    rt::Cache& cache_;
    rt::WorkerPool& workers_;
    images::BlobStore& blobs_;
    const ImageSettings settings_;
};

/// The store could not be reached or refused (S3 down, a full disk): logs `what` and throws a
/// 503 `service-unavailable` with Retry-After, so clients retry instead of seeing a 500.
[[noreturn]] void throwStorageUnavailable(const std::string& what);

/// Wires the photo routes, the upload spool and the blob store on one shard; `workers` (one
/// process-wide pool of ImageSettings::threads) decodes and resizes.
void addImageRoutes(rt::Shard& shard, rt::Cache& cache, const ImageSettings& settings,
                    rt::WorkerPool& workers);

}  // namespace restinu::property
