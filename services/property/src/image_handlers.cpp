#include "image_handlers.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "blob_store.hpp"
#include "cached_answers.hpp"
#include "image_store.hpp"
#include "listing_rules.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/cache.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/spool.hpp"
#include "restinu/rt/worker_pool.hpp"
#include "restinu/rt/write_context.hpp"
#include "user_roles.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;
namespace cp = contracts::problems;

json::array imagesOf(const StoredListing& s) {
    return json::parse(s.images_json).as_array();
}

std::string_view textOf(const json::value& v, std::string_view key) {
    const auto* x = v.as_object().if_contains(key);
    return x != nullptr && x->is_string() ? std::string_view(x->as_string()) : std::string_view{};
}

// Where a photo with this id is in `images`, or -1.
std::int64_t positionOf(const json::array& images, std::string_view key, std::string_view value) {
    for (std::size_t i = 0; i < images.size(); ++i) {
        if (textOf(images[i], key) == value) {
            return static_cast<std::int64_t>(i);
        }
    }
    return -1;
}

std::string isoNow() {
    auto t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// A fresh directory for one upload's renditions, removed with everything in it when this goes
// (both on a file thread: the loop never waits for the disk).
class WorkDir {
public:
    static rt::Task<std::shared_ptr<WorkDir>> make(std::string parent) {
        auto job = [parent] {
            auto base = parent.empty() ? std::filesystem::temp_directory_path().string() : parent;
            std::string pattern = base + "/restinu-image-XXXXXX";
            if (::mkdtemp(pattern.data()) == nullptr) {
                throw std::runtime_error("cannot make a work folder in " + base);
            }
            return pattern;
        };
        auto path = co_await rt::fileIo().run(std::move(job));
        co_return std::shared_ptr<WorkDir>(new WorkDir(std::move(path)));
    }
    ~WorkDir() {
        auto job = [path = path_] {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        };
        rt::fileIo().post(std::move(job));
    }
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    const std::string& path() const { return path_; }

private:
    explicit WorkDir(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

// The photo as the listing lists it: what a client shows, and what removal needs (the keys).
json::object imageEntry(const std::string& image_id, const std::string& sha,
                        const images::Processed& p) {
    json::array renditions;
    for (const auto& r : p.renditions) {
        renditions.push_back(json::object{{"width", r.width},
                                          {"height", r.height},
                                          {"format", images::extension(r.spec.format)},
                                          {"content_type", images::mimeType(r.spec.format)},
                                          {"bytes", r.bytes},
                                          {"url", "/api/v1/images/" + r.file}});
    }
    return json::object{{"id", image_id},
                        {"sha256", sha},
                        {"format", images::extension(p.probe.format)},
                        {"width", p.probe.width},
                        {"height", p.probe.height},
                        {"orientation", p.probe.orientation},
                        {"bytes", p.original_bytes},
                        {"original", p.original_file},
                        {"added_at", isoNow()},
                        {"renditions", std::move(renditions)}};
}

// Every stored file of a photo: its original and renditions.
std::vector<std::string> keysOf(const json::value& entry) {
    std::vector<std::string> keys{std::string(textOf(entry, "original"))};
    for (const auto& r : entry.as_object().at("renditions").as_array()) {
        auto url = textOf(r, "url");
        keys.emplace_back(url.substr(url.rfind('/') + 1));
    }
    return keys;
}

[[noreturn]] void refuse(const images::ImageRefused& e) {
    if (e.reason() == images::ImageRefused::Reason::TooManyPixels) {
        throw ApiError(cp::kImageTooManyPixels, e.what());
    }
    throw ApiError(cp::kImageUndecodable, e.what());
}

rt::Response imagesResponse(int status, const StoredListing& s, const json::value& body) {
    auto res = rt::jsonResponse(status, body);
    res.header("ETag", etagOf(s.version));  // the listing's: its photos are part of it
    return res;
}

}  // namespace

void throwStorageUnavailable(const std::string& what) {
    rt::log::warn("property", "image storage unavailable", {{"error", what}});
    throw ApiError(rt::Problem{problems::kUnavailable,
                               "the photo storage cannot be reached; try again shortly",
                               {},
                               {{"Retry-After", "1"}}});
}

ImageHandlers::ImageHandlers(rt::PgPool& primary, rt::Cache& cache, rt::WorkerPool& workers,
                             images::BlobStore& blobs, ImageSettings settings)
    : primary_(primary),
      listings_(primary),
      cache_(cache),
      workers_(workers),
      blobs_(blobs),
      settings_(std::move(settings)) {}

rt::Task<StoredListing> ImageHandlers::changeable(const std::string& id, const rt::Identity& who) {
    if (!rt::isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such listing");
    }
    auto found = co_await listings_.find(id);
    if (!found) {
        throw ApiError(problems::kNotFound, "no such listing");
    }
    requireOwnerOrAdmin(*found, who, "changes its photos");
    co_return std::move(*found);
}

rt::Task<rt::Response> ImageHandlers::upload(rt::Request& req) {
    // Parse: the body is the photo (spooled to a file as it came); its bytes decide what it is.
    const auto who = co_await currentRoles(primary_, *req.identity);
    const auto id = std::string(req.param("id"));
    auto type = req.header("Content-Type");
    if (type.substr(0, 10) == "multipart/") {
        throw ApiError(problems::kUnsupportedMediaType,
                       "send the photo's bytes as the request body (any image Content-Type)");
    }
    if (!req.spooled || req.spooled->size() == 0) {
        throw ApiError(cp::kImageUndecodable, "the request has no body: send the photo's bytes");
    }
    // Rule, before any CPU is spent: the caller may change this listing and it has room.
    auto listing = co_await changeable(id, who);
    const auto sha = req.spooled->sha256();
    const auto existing = imagesOf(listing);
    if (auto at = positionOf(existing, "sha256", sha); at >= 0) {
        co_return imagesResponse(200, listing, existing[static_cast<std::size_t>(at)]);
    }
    if (static_cast<std::int64_t>(existing.size()) >= settings_.max_per_listing) {
        throw ApiError(cp::kTooManyImages, "a listing keeps at most " +
                                               std::to_string(settings_.max_per_listing) +
                                               " photos; delete one first");
    }
    // Decode, strip and resize on the worker pool (bounded: a full queue is 503 at once).
    auto work = co_await WorkDir::make(settings_.work_dir);
    auto process = [spooled = req.spooled, sha, dir = work->path(), limits = settings_.limits,
                    specs = settings_.renditions] {
        return images::process(spooled->path(), sha, dir, limits, specs);
    };
    images::Processed processed;
    try {
        processed = co_await workers_.run(std::move(process));
    } catch (const images::ImageRefused& e) {
        refuse(e);
    }
    // Store: the files, then the listing's array, under the photo's lock (a removal of the same
    // photo from another listing cannot delete the files between the two). The files go first,
    // before the listing's row is locked: the row is held only for its own short update.
    const auto image_id = rt::newUuidV7();
    auto entry = imageEntry(image_id, sha, processed);
    const auto ctx = rt::WriteContext::of(req, who.user_id);
    using Outcome = std::pair<StoredListing, json::value>;
    Outcome outcome;
    try {
        outcome = co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<Outcome> {
            co_await ImageStore::lockPhoto(tx, sha);
            const auto dir = work->path();
            co_await blobs_.put(processed.original_file, dir + "/" + processed.original_file,
                                std::string(images::mimeType(processed.probe.format)));
            for (const auto& r : processed.renditions) {
                co_await blobs_.put(r.file, dir + "/" + r.file,
                                    std::string(images::mimeType(r.spec.format)));
            }
            auto locked = co_await ListingStore::lock(tx, id);
            if (!locked) {
                throw ApiError(problems::kNotFound, "no such listing");
            }
            auto list = imagesOf(*locked);
            if (auto at = positionOf(list, "sha256", sha); at >= 0) {  // a concurrent twin won
                Outcome twin(std::move(*locked), list[static_cast<std::size_t>(at)]);
                co_return twin;
            }
            if (static_cast<std::int64_t>(list.size()) >= settings_.max_per_listing) {
                throw ApiError(cp::kTooManyImages, "a listing keeps at most " +
                                                       std::to_string(settings_.max_per_listing) +
                                                       " photos; delete one first");
            }
            list.push_back(entry);
            contracts::PropertyImageChanged event;
            event.image_id = image_id;
            event.sha256 = sha;
            event.position = static_cast<std::int64_t>(list.size()) - 1;
            auto after = co_await ImageStore::setImages(tx, *locked, json::serialize(list),
                                                        contracts::PropertyImageChanged::kAdded,
                                                        event, "property.image_add", ctx);
            Outcome added(std::move(after), entry);
            co_return added;
        });
    } catch (const images::BlobStoreError& e) {
        throwStorageUnavailable(e.what());
    }
    co_await cache_.invalidate(listingKey(id));
    auto res = imagesResponse(201, outcome.first, outcome.second);
    res.header("Location", "/api/v1/properties/" + id);
    co_return res;
}

rt::Task<rt::Response> ImageHandlers::remove(rt::Request& req) {
    const auto who = co_await currentRoles(primary_, *req.identity);
    const auto id = std::string(req.param("id"));
    const auto image_id = std::string(req.param("image_id"));
    auto listing = co_await changeable(id, who);
    auto at = positionOf(imagesOf(listing), "id", image_id);
    if (at < 0) {
        throw ApiError(problems::kNotFound, "the listing has no such photo");
    }
    const auto sha = std::string(textOf(imagesOf(listing)[static_cast<std::size_t>(at)], "sha256"));
    const auto ctx = rt::WriteContext::of(req, who.user_id);
    std::vector<std::string> keys;
    try {
        co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            // The photo's lock first, then the row: the order an upload takes them in.
            co_await ImageStore::lockPhoto(tx, sha);
            auto locked = co_await ListingStore::lock(tx, id);
            auto list = locked ? imagesOf(*locked) : json::array{};
            auto pos = positionOf(list, "id", image_id);
            if (pos < 0) {
                throw ApiError(problems::kNotFound, "the listing has no such photo");
            }
            const auto removed = list[static_cast<std::size_t>(pos)];
            list.erase(list.begin() + pos);
            contracts::PropertyImageChanged event;
            event.image_id = image_id;
            event.sha256 = sha;
            event.position = pos;
            co_await ImageStore::setImages(tx, *locked, json::serialize(list),
                                           contracts::PropertyImageChanged::kRemoved, event,
                                           "property.image_remove", ctx);
            keys = keysOf(removed);
        });
    } catch (const images::BlobStoreError& e) {
        throwStorageUnavailable(e.what());
    }
    co_await cache_.invalidate(listingKey(id));
    // Committed: the files go when no listing uses the photo any more, decided again under the
    // photo's lock (an upload of it elsewhere holds the lock while it puts them). Files that
    // cannot be removed now stay, unlisted and harmless; the listing is never left pointing at
    // missing files.
    try {
        co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await ImageStore::lockPhoto(tx, sha);
            const bool in_use = co_await ImageStore::photoInUse(tx, sha);
            if (!in_use) {
                for (const auto& key : keys) {
                    co_await blobs_.remove(key);
                }
            }
        });
    } catch (const std::exception& e) {
        rt::log::warn("property", "photo files left after their last listing dropped them",
                      {{"sha256", sha}, {"error", e.what()}});
    }
    co_return rt::Response::noContent();
}

rt::Task<rt::Response> ImageHandlers::reorder(rt::Request& req) {
    const auto who = co_await currentRoles(primary_, *req.identity);
    const auto id = std::string(req.param("id"));
    auto body = rt::parseJsonObject(req);
    const auto* order = body.if_contains("order");
    if (order == nullptr || !order->is_array()) {
        throw ApiError(problems::kValidation, "send the photos' ids in the new order",
                       {{"order", "required: an array of every photo id of the listing"}});
    }
    co_await changeable(id, who);
    const auto ctx = rt::WriteContext::of(req, who.user_id);
    auto after = co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<StoredListing> {
        auto locked = co_await ListingStore::lock(tx, id);
        if (!locked) {
            throw ApiError(problems::kNotFound, "no such listing");
        }
        auto list = imagesOf(*locked);
        const auto& ids = order->as_array();
        json::array reordered;
        for (const auto& v : ids) {
            auto pos = v.is_string() ? positionOf(list, "id", v.as_string()) : -1;
            if (pos < 0 || positionOf(reordered, "id", v.as_string()) >= 0) {
                break;
            }
            reordered.push_back(list[static_cast<std::size_t>(pos)]);
        }
        if (reordered.size() != list.size() || ids.size() != list.size()) {
            throw ApiError(problems::kValidation, "the order must name every photo once",
                           {{"order", "must hold each of the listing's " +
                                          std::to_string(list.size()) + " photo ids once"}});
        }
        contracts::PropertyImageChanged event;  // named: no braced temporary in a co_await
        co_return co_await ImageStore::setImages(tx, *locked, json::serialize(reordered),
                                                 contracts::PropertyImageChanged::kReordered, event,
                                                 "property.images_reorder", ctx);
    });
    co_await cache_.invalidate(listingKey(id));
    co_return imagesResponse(200, after, json::object{{"images", imagesOf(after)}});
}

}  // namespace restinu::property
