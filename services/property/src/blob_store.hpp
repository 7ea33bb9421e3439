#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class Curl;
class WorkerPool;
}  // namespace restinu::rt

/// Where property photos are kept, behind one interface: a folder of the local filesystem (the
/// default) or an S3-compatible bucket. Objects are content-named ("<sha256>-1280.webp"),
/// written once and never changed, from a few KB (renditions) to some 30 MB (originals).
namespace restinu::property::images {

/// Bytes `first` to `last` of an object, both included, as in "Range: bytes=first-last". A
/// `last` past the end means up to the end, as in HTTP.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

/// What get() read: the whole object, or the part of it that was asked for.
struct Blob {
    std::string bytes;
    std::uint64_t first = 0;       ///< where `bytes` start in the object (0 for the whole)
    std::uint64_t total_size = 0;  ///< the size of the whole object
    std::string content_type;      ///< as given to put()
};

/// The largest object a store reads or writes (originals are capped well below).
inline constexpr std::uint64_t kMaxBlobBytes = std::uint64_t{64} << 20;

/// get() of a range that starts at or past the end of the object: an HTTP 416, answered with
/// "Content-Range: bytes */<totalSize()>".
class RangeNotSatisfiable : public std::runtime_error {
public:
    explicit RangeNotSatisfiable(std::uint64_t total_size)
        : std::runtime_error("the range starts past the end of the object (" +
                             std::to_string(total_size) + " bytes)"),
          total_size_(total_size) {}
    std::uint64_t totalSize() const { return total_size_; }

private:
    std::uint64_t total_size_;
};

/// The storage failed: a file could not be written or read, S3 refused the request or could
/// not be reached. what() names the operation, the key and the cause (for S3 the HTTP status
/// and the error Code of the answer, e.g. "403 SignatureDoesNotMatch"). `transient` when the
/// same call may succeed later (S3 answered 5xx, 429 or SlowDown; the connection failed or
/// timed out).
class BlobStoreError : public std::runtime_error {
public:
    BlobStoreError(const std::string& what, long status, std::string code, bool transient)
        : std::runtime_error(what),
          status_(status),
          code_(std::move(code)),
          transient_(transient) {}
    long status() const { return status_; }            ///< S3's HTTP status; 0 when none
    const std::string& code() const { return code_; }  ///< S3's error Code; "" when none
    bool transient() const { return transient_; }

private:
    long status_;
    std::string code_;
    bool transient_;
};

/// Throws std::invalid_argument unless `key` is a valid object key: 1 to 200 characters of
/// [0-9a-z.-], the first one a letter or digit (so no "..", no '/', no hidden file names).
inline void checkKey(std::string_view key) {
    const bool ok =
        !key.empty() && key.size() <= 200 &&
        key.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz.-") == std::string_view::npos &&
        key.front() != '.' && key.front() != '-';
    if (!ok) {
        throw std::invalid_argument("not a blob key: \"" + std::string(key.substr(0, 80)) + "\"");
    }
}

/// The store of objects. Every call throws std::invalid_argument for a key checkKey() refuses
/// (and for a range whose `last` is before its `first`) and BlobStoreError when the storage
/// fails. None blocks the loop thread.
///
/// @par Thread safety
/// A store is used from the loop thread that created it (the S3 store's rt::Curl is bound to
/// it); calls may run at the same time, also on the same key.
class BlobStore {
public:
    virtual ~BlobStore() = default;

    /// Stores the file at `file_path` (read whole; it may be removed once this returns) under
    /// `key`. Storing a key again replaces it, so a retried put() is harmless. No reader ever
    /// sees a part of an object.
    virtual rt::Task<void> put(std::string key, std::string file_path,
                               std::string content_type) = 0;

    /// The object, or the part `range` of it; nullopt when there is no such object. Throws
    /// RangeNotSatisfiable when `range` starts at or past its end.
    virtual rt::Task<std::optional<Blob>> get(std::string key, std::optional<ByteRange> range) = 0;

    virtual rt::Task<bool> exists(std::string key) = 0;

    /// Deletes the object; a key that is not there is fine.
    virtual rt::Task<void> remove(std::string key) = 0;
};

using BlobStorePtr = std::unique_ptr<BlobStore>;

/// Objects as files under `root_dir` (created when missing), fanned out into folders by the
/// first two characters of the key: root_dir/ab/ab12…-1280.webp, its content type beside it in
/// "ab12…-1280.webp#type". A put() writes a temporary file in the same folder, syncs it and
/// renames it over the final name. The file work runs on `io`.
BlobStorePtr localBlobStore(std::string root_dir, rt::WorkerPool& io);

/// An S3-compatible bucket over HTTP(S), requests signed with AWS Signature V4.
struct S3Options {
    std::string endpoint;  ///< "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:4568"
    std::string bucket;
    std::string region = "us-east-1";
    std::string access_key;
    std::string secret_key;
    /// endpoint/bucket/key; false for virtual-hosted style (bucket.endpoint-host/key).
    bool path_style = true;
    std::chrono::milliseconds timeout{30'000};  ///< each request, start to end
};

/// The bucket of `options` through `curl` (on the caller's loop thread); files to upload are
/// read, and hashed for the signature, on `io`.
BlobStorePtr s3BlobStore(S3Options options, rt::Curl& curl, rt::WorkerPool& io);

}  // namespace restinu::property::images
