// The photos' files: served at content-named URLs (immutable), and the wiring of the photo
// routes, the upload spool and the blob store (image_handlers.hpp).

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <thread>

#include "blob_store.hpp"
#include "cached_answers.hpp"
#include "image_handlers.hpp"
#include "restinu/rt/cache.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/curl.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/router.hpp"
#include "restinu/rt/service.hpp"
#include "restinu/rt/spool.hpp"

namespace restinu::property {
namespace {

using rt::ApiError;
namespace problems = rt::problems;

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

bool isHex64(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// "<sha256>-<width>.<ext>" of a configured rendition; originals are not served.
std::optional<std::string_view> renditionType(std::string_view name,
                                              const std::vector<images::RenditionSpec>& specs) {
    if (name.size() < 66 || !isHex64(name.substr(0, 64)) || name[64] != '-') {
        return std::nullopt;
    }
    auto rest = name.substr(65);
    for (const auto& spec : specs) {
        auto want = std::to_string(spec.width) + "." + std::string(images::extension(spec.format));
        if (rest == want) {
            return images::mimeType(spec.format);
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

struct Range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};
enum class RangeAsk { Whole, Part, Unsatisfiable };

// RFC 9110 §14: one "bytes=a-b", "bytes=a-" or "bytes=-n" against `size`. Several ranges, or a
// header that does not parse, are answered with the whole file (as the RFC allows).
RangeAsk parseRange(std::string_view header, std::uint64_t size, Range& out) {
    constexpr std::string_view kUnit = "bytes=";
    if (header.substr(0, kUnit.size()) != kUnit || header.find(',') != std::string_view::npos) {
        return RangeAsk::Whole;
    }
    auto spec = header.substr(kUnit.size());
    auto dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return RangeAsk::Whole;
    }
    auto a = spec.substr(0, dash);
    auto b = spec.substr(dash + 1);
    if (a.empty()) {  // the last n bytes
        auto n = number(b);
        if (!n) {
            return RangeAsk::Whole;
        }
        if (*n == 0 || size == 0) {
            return RangeAsk::Unsatisfiable;
        }
        out = {size - std::min(*n, size), size - 1};
        return RangeAsk::Part;
    }
    auto first = number(a);
    auto last =
        b.empty() ? std::optional<std::uint64_t>(std::max<std::uint64_t>(size, 1) - 1) : number(b);
    if (!first || !last) {
        return RangeAsk::Whole;  // not a valid range: ignored (RFC 9110 §14.2)
    }
    if (*first >= size) {
        return RangeAsk::Unsatisfiable;
    }
    if (*last < *first) {
        return RangeAsk::Whole;
    }
    out = {*first, std::min(*last, size - 1)};
    return RangeAsk::Part;
}

}  // namespace

rt::Task<rt::Response> ImageHandlers::file(rt::Request& req) {
    const auto name = std::string(req.param("name"));
    auto type = renditionType(name, settings_.renditions);
    if (!type) {
        throw ApiError(problems::kNotFound, "no such image");
    }
    // The name is the content's: the same name is always the same bytes.
    const std::string etag = "\"" + name + "\"";
    auto cached_headers = [&](rt::Response& r) {
        r.header("ETag", etag);
        r.header("Cache-Control", std::string(kImmutable));
        r.header("Accept-Ranges", "bytes");
    };
    if (etagListNames(req.header("If-None-Match"), etag)) {
        rt::Response r(304, "", "");
        cached_headers(r);
        co_return r;
    }
    std::optional<images::Blob> blob;
    try {
        blob = co_await blobs_.get(name, std::nullopt);
    } catch (const images::BlobStoreError& e) {
        throwStorageUnavailable(e.what());
    }
    if (!blob) {
        throw ApiError(problems::kNotFound, "no such image");
    }
    const auto size = static_cast<std::uint64_t>(blob->bytes.size());
    Range range;
    auto ask = RangeAsk::Whole;
    auto range_header = req.header("Range");
    // If-Range with another validator: the client's part is of other bytes, send the whole.
    auto if_range = req.header("If-Range");
    if (!range_header.empty() && (if_range.empty() || if_range == etag)) {
        ask = parseRange(range_header, size, range);
    }
    if (ask == RangeAsk::Unsatisfiable) {
        auto r = rt::problemResponse(rt::Problem{problems::kRangeNotSatisfiable,
                                                 "the image has " + std::to_string(size) + " bytes",
                                                 {},
                                                 {}},
                                     req.path, req.request_id);
        r.header("Content-Range", "bytes */" + std::to_string(size));
        co_return r;
    }
    rt::Response r(200, std::string(*type), std::move(blob->bytes));
    cached_headers(r);
    if (ask == RangeAsk::Part) {
        r.status = 206;
        r.body = r.body.substr(range.first, range.last - range.first + 1);
        r.header("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                      std::to_string(range.last) + "/" + std::to_string(size));
    }
    co_return r;
}

ImageSettings readImageSettings(rt::Config& c) {
    ImageSettings s;
    s.max_bytes = static_cast<std::uint64_t>(c.integer(
        "property.images.max_bytes", std::int64_t{25} << 20, 1024, std::int64_t{1} << 32));
    s.limits.max_pixels = static_cast<std::uint64_t>(
        c.integer("property.images.max_pixels", 100'000'000, 1, std::int64_t{1} << 40));
    s.limits.max_side =
        static_cast<int>(c.integer("property.images.max_side", 30'000, 1, 1'000'000));
    s.max_per_listing = c.integer("property.images.max_per_listing", 40, 1, 1000);
    // A 12 MP photo takes a core about half a second: two waiting per thread is a second's wait.
    const auto cores = static_cast<std::int64_t>(std::max(1U, std::thread::hardware_concurrency()));
    s.threads = static_cast<int>(c.integer("property.images.threads", cores, 1, 256));
    s.queue_limit =
        c.integer("property.images.queue_limit", 2 * std::int64_t{s.threads}, 1, 100'000);
    s.storage = c.oneOf("property.images.storage", "local", {"local", "s3"});
    s.dir = c.str("property.images.dir", "data/images");
    s.work_dir = c.str("property.images.work_dir", "");
    if (s.storage == "s3") {
        s.s3_endpoint = c.str("property.images.s3.endpoint");
        s.s3_bucket = c.str("property.images.s3.bucket");
        s.s3_region = c.str("property.images.s3.region", "us-east-1");
        s.s3_access_key = c.str("property.images.s3.access_key");
        s.s3_secret_key = c.str("property.images.s3.secret_key");
    }
    images::init();
    return s;
}

void addImageRoutes(rt::Shard& shard, rt::Cache& cache, const ImageSettings& settings,
                    rt::WorkerPool& workers) {
    images::BlobStore* blobs = nullptr;
    if (settings.storage == "s3") {
        auto& curl = shard.keep(std::make_unique<rt::Curl>(shard.io()));
        images::S3Options o;
        o.endpoint = settings.s3_endpoint;
        o.bucket = settings.s3_bucket;
        o.region = settings.s3_region;
        o.access_key = settings.s3_access_key;
        o.secret_key = settings.s3_secret_key;
        blobs = &shard.keep(images::s3BlobStore(o, curl, rt::fileIo()));
    } else {
        blobs = &shard.keep(images::localBlobStore(settings.dir, rt::fileIo()));
    }
    auto& h =
        shard.keep(std::make_unique<ImageHandlers>(shard.pg(), cache, workers, *blobs, settings));
    auto& r = shard.router();
    // Uploads go to a file as they arrive (never whole in memory), up to max_bytes.
    r.setSpool([limit = settings.max_bytes](rt::Method m, std::string_view path) {
        constexpr std::string_view kPrefix = "/api/v1/properties/";
        constexpr std::string_view kSuffix = "/images";
        const bool upload =
            m == rt::Method::Post && path.size() > kPrefix.size() + kSuffix.size() &&
            path.substr(0, kPrefix.size()) == kPrefix &&
            path.substr(path.size() - kSuffix.size()) == kSuffix &&
            path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()).find('/') ==
                std::string_view::npos;
        return upload ? limit : std::uint64_t{0};
    });
    const auto signed_in = rt::Access::authenticated();
    r.post("/api/v1/properties/{id}/images", signed_in,
           [&h](rt::Request& req) { return h.upload(req); });
    r.patch("/api/v1/properties/{id}/images", signed_in,
            [&h](rt::Request& req) { return h.reorder(req); });
    r.del("/api/v1/properties/{id}/images/{image_id}", signed_in,
          [&h](rt::Request& req) { return h.remove(req); });
    r.get("/api/v1/images/{name}", rt::Access::none(),
          [&h](rt::Request& req) { return h.file(req); });
}

}  // namespace restinu::property
