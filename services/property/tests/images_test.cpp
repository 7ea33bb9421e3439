// A listing's photos through the service's routes (as the gateway forwards them) on a real
// PostgreSQL and Redis, with files in a real folder: upload, refusals, who may add or delete,
// renditions served (immutable, ETag, ranges), reorder, and files that go with their last use.

#include <filesystem>

#include "image_samples.hpp"
#include "property_fixture.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/digest.hpp"

namespace restinu::property {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using images::samples::TempDir;

constexpr Route kUpload{rt::Method::Post, "/api/v1/properties/{id}/images"};
constexpr Route kReorder{rt::Method::Patch, "/api/v1/properties/{id}/images"};
constexpr Route kFile{rt::Method::Get, "/api/v1/images/{name}"};

class ImagesTest : public PropertyTest {
protected:
    std::string serviceConfig() const override {
        return config() + "property:\n  images:\n    dir: \"" + store_.out() +
               "\"\n    max_per_listing: 3\n";
    }

    std::string newListing(const rt::Identity& owner) {
        auto r = call(kCreate, {json::serialize(listing()), owner});
        EXPECT_EQ(r.status, 201);
        return std::string(r.body.at("id").as_string());
    }

    Reply upload(const std::string& id, const std::string& bytes,
                 const std::optional<rt::Identity>& who, std::string type = "image/jpeg") {
        testing::ServiceClient::Call c{rt::Method::Post, kUpload.target({{"id", id}}), bytes};
        c.who = who;
        c.headers.emplace_back("Content-Type", std::move(type));
        return client_->send(c);
    }

    Reply remove(const std::string& id, const std::string& image_id,
                 const std::optional<rt::Identity>& who) {
        testing::ServiceClient::Call c{rt::Method::Delete,
                                       "/api/v1/properties/" + id + "/images/" + image_id, ""};
        c.who = who;
        return client_->send(c);
    }

    Reply file(const std::string& url, std::vector<std::pair<std::string, std::string>> h = {}) {
        testing::ServiceClient::Call c{rt::Method::Get, url, ""};
        c.headers = std::move(h);
        return client_->send(c);
    }

    json::array imagesOf(const std::string& id, const rt::Identity& who) {
        auto r = call(kGet, {"", who, id});
        EXPECT_EQ(r.status, 200);
        return r.body.at("images").as_array();
    }

    std::size_t storedFiles() const {
        std::size_t n = 0;
        for (const auto& e : fs::recursive_directory_iterator(store_.out())) {
            n += e.is_regular_file() ? 1 : 0;
        }
        return n;
    }

    static std::string bytesOf(const fs::path& p) { return images::samples::readFile(p); }

    TempDir work_;   // sample images
    TempDir store_;  // the service's image folder (its out/)
};

TEST_F(ImagesTest, JpegPngAndWebpAreAcceptedWithRenditionsOfThePromisedSizes) {
    auto owner = person("agent");
    auto id = newListing(owner);
    int n = 0;
    for (std::string name : {"a.jpg", "b.png", "c.webp"}) {
        auto bytes = bytesOf(images::samples::writeImage(work_, name, 1600, 1200));
        auto r = upload(id, bytes, owner, "application/octet-stream");  // the type is not trusted
        ASSERT_EQ(r.status, 201) << name << " " << json::serialize(r.body);
        EXPECT_EQ(r.body.at("sha256").as_string(), rt::sha256Hex(bytes));
        EXPECT_EQ(r.body.at("width").as_int64(), 1600);
        const auto& renditions = r.body.at("renditions").as_array();
        ASSERT_EQ(renditions.size(), 4u);
        for (const auto& rv : renditions) {
            const auto& o = rv.as_object();
            auto want_w = o.at("url").as_string().find("-320.") != json::string::npos ? 320 : 1280;
            EXPECT_EQ(o.at("width").as_int64(), want_w);
            EXPECT_EQ(o.at("height").as_int64(), want_w * 3 / 4);
            // Served, and it decodes to those sizes.
            auto got = file(std::string(o.at("url").as_string()));
            ASSERT_EQ(got.status, 200);
            EXPECT_EQ(got.raw.content_type, o.at("content_type").as_string());
            auto path = work_ / ("got-" + std::to_string(n++));
            images::samples::writeFile(path, got.raw.body);
            auto d = images::samples::decode(path);
            EXPECT_EQ(d.width, want_w);
            EXPECT_EQ(d.height, want_w * 3 / 4);
        }
    }
    // The listing lists them in upload order.
    auto list = imagesOf(id, owner);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].at("format").as_string(), "jpg");
    EXPECT_EQ(list[1].at("format").as_string(), "png");
    EXPECT_EQ(list[2].at("format").as_string(), "webp");
}

TEST_F(ImagesTest, WhatIsNotAPhotoIsRefusedAndNothingIsWritten) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto version = call(kGet, {"", owner, id}).body.at("version").as_int64();
    const auto files = storedFiles();
    auto expect = [&](const std::string& bytes, int status, std::string_view type) {
        auto r = upload(id, bytes, owner);
        EXPECT_EQ(r.status, status) << json::serialize(r.body);
        EXPECT_EQ(r.raw.content_type, "application/problem+json");
        EXPECT_NE(std::string(r.body.at("type").as_string()).find(type), std::string::npos)
            << json::serialize(r.body);
    };
    expect("this is a text file, not a photo\n", 422, "image-undecodable");
    auto jpeg = bytesOf(images::samples::writeImage(work_, "whole.jpg", 1200, 900));
    expect(jpeg.substr(0, jpeg.size() / 2), 422, "image-undecodable");
    expect("", 422, "image-undecodable");
    // A 50,000 × 50,000 PNG bomb: refused from its header, the process's memory unmoved.
    auto bomb = bytesOf(images::samples::pngClaiming(work_, 50'000, 50'000));
    const auto rss_before = images::samples::maxRssKb();
    expect(bomb, 422, "image-too-many-pixels");
    EXPECT_LT(images::samples::maxRssKb() - rss_before, 50 * 1024) << "KiB of peak RSS grew";
    EXPECT_EQ(call(kGet, {"", owner, id}).body.at("version").as_int64(), version);
    EXPECT_EQ(imagesOf(id, owner).size(), 0u);
    EXPECT_EQ(storedFiles(), files);
}

TEST_F(ImagesTest, GpsExifIsInNoStoredFile) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto photo = bytesOf(images::samples::writeJpegWithExif(work_, "gps.jpg", 1400, 1000,
                                                            images::samples::exifWithGps(1)));
    ASSERT_NE(photo.find(images::samples::kGpsMarker), std::string::npos);
    ASSERT_EQ(upload(id, photo, owner).status, 201);
    std::size_t checked = 0;
    for (const auto& e : fs::recursive_directory_iterator(store_.out())) {
        if (!e.is_regular_file()) {
            continue;
        }
        auto bytes = bytesOf(e.path());
        EXPECT_EQ(bytes.find(images::samples::kGpsMarker), std::string::npos) << e.path();
        EXPECT_EQ(bytes.find(images::samples::kExifHeader), std::string::npos) << e.path();
        // The local store keeps each file's content type beside it ("<name>#type").
        checked += e.path().filename().string().find('#') == std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(checked, 5u);  // the original and four renditions
}

TEST_F(ImagesTest, OnlyTheOwnerOrAnAdminAddsOrDeletes) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto bytes = bytesOf(images::samples::writeImage(work_, "p.jpg", 800, 600));
    EXPECT_EQ(upload(id, bytes, std::nullopt).status, 401);
    EXPECT_EQ(upload(id, bytes, person("agent")).status, 403);
    EXPECT_EQ(upload(id, bytes, person("investor")).status, 403);
    EXPECT_EQ(upload(rt::newUuidV7(), bytes, owner).status, 404);
    auto added = upload(id, bytes, owner);
    ASSERT_EQ(added.status, 201);
    auto image_id = std::string(added.body.at("id").as_string());
    // The same photo again is the same photo (stored once, listed once).
    auto again = upload(id, bytes, owner);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body.at("id").as_string(), image_id);
    EXPECT_EQ(remove(id, image_id, person("agent")).status, 403);
    EXPECT_EQ(remove(id, image_id, std::nullopt).status, 401);
    EXPECT_EQ(remove(id, rt::newUuidV7(), owner).status, 404);
    EXPECT_EQ(imagesOf(id, owner).size(), 1u);
    EXPECT_EQ(remove(id, image_id, person("admin")).status, 204);
    EXPECT_EQ(imagesOf(id, owner).size(), 0u);
}

TEST_F(ImagesTest, RenditionsAreImmutableWithETagsAndRangesAndGoWithTheirLastListing) {
    auto owner = person("agent");
    auto first = newListing(owner);
    auto second = newListing(owner);
    auto bytes = bytesOf(images::samples::writeImage(work_, "shared.jpg", 900, 600));
    auto a = upload(first, bytes, owner);
    auto b = upload(second, bytes, owner);
    ASSERT_EQ(a.status, 201);
    ASSERT_EQ(b.status, 201);
    auto url = std::string(a.body.at("renditions").as_array()[0].at("url").as_string());
    EXPECT_EQ(url, b.body.at("renditions").as_array()[0].at("url").as_string());  // stored once
    auto whole = file(url);
    ASSERT_EQ(whole.status, 200);
    EXPECT_EQ(whole.raw.header("Cache-Control"), "public, max-age=31536000, immutable");
    auto etag = std::string(whole.raw.header("ETag"));
    EXPECT_FALSE(etag.empty());
    EXPECT_EQ(file(url, {{"If-None-Match", etag}}).status, 304);
    auto part = file(url, {{"Range", "bytes=10-99"}});
    EXPECT_EQ(part.status, 206);
    EXPECT_EQ(part.raw.body, whole.raw.body.substr(10, 90));
    EXPECT_EQ(part.raw.header("Content-Range"),
              "bytes 10-99/" + std::to_string(whole.raw.body.size()));
    auto tail = file(url, {{"Range", "bytes=-5"}});
    EXPECT_EQ(tail.raw.body, whole.raw.body.substr(whole.raw.body.size() - 5));
    auto past = file(url, {{"Range", "bytes=99999999-"}});
    EXPECT_EQ(past.status, 416);
    EXPECT_EQ(past.raw.header("Content-Range"), "bytes */" + std::to_string(whole.raw.body.size()));
    EXPECT_EQ(file("/api/v1/images/" + std::string(a.body.at("original").as_string())).status, 404)
        << "originals are kept, not served";
    EXPECT_EQ(file("/api/v1/images/..%2f..%2fetc%2fpasswd").status, 404);
    // Deleted from one listing, the other still uses it; deleted from both, it is gone.
    ASSERT_EQ(remove(first, std::string(a.body.at("id").as_string()), owner).status, 204);
    EXPECT_EQ(file(url).status, 200);
    ASSERT_EQ(remove(second, std::string(b.body.at("id").as_string()), owner).status, 204);
    EXPECT_EQ(file(url).status, 404);
    EXPECT_EQ(storedFiles(), 0u);
}

TEST_F(ImagesTest, PatchReordersAndAFullListingRefusesMore) {
    auto owner = person("agent");
    auto id = newListing(owner);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto bytes = bytesOf(
            images::samples::writeImage(work_, "r" + std::to_string(i) + ".jpg", 640 + i, 480));
        auto r = upload(id, bytes, owner);
        ASSERT_EQ(r.status, 201);
        ids.emplace_back(r.body.at("id").as_string());
    }
    auto fourth = bytesOf(images::samples::writeImage(work_, "r4.jpg", 700, 480));
    auto full = upload(id, fourth, owner);
    EXPECT_EQ(full.status, 409);
    EXPECT_NE(std::string(full.body.at("type").as_string()).find("too-many-images"),
              std::string::npos);
    json::array order{json::string(ids[2]), json::string(ids[0]), json::string(ids[1])};
    auto bad =
        call(kReorder, {json::serialize(json::object{{"order", json::array{ids[0]}}}), owner, id});
    EXPECT_EQ(bad.status, 422);
    EXPECT_EQ(call(kReorder, {json::serialize(json::object{{"order", order}}), person("agent"), id})
                  .status,
              403);
    auto ok = call(kReorder, {json::serialize(json::object{{"order", order}}), owner, id});
    ASSERT_EQ(ok.status, 200) << json::serialize(ok.body);
    auto list = imagesOf(id, owner);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].at("id").as_string(), ids[2]);
    EXPECT_EQ(list[1].at("id").as_string(), ids[0]);
    EXPECT_EQ(list[2].at("id").as_string(), ids[1]);
}

TEST_F(ImagesTest, EveryChangeIsAnEventOfTheListing) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto bytes = bytesOf(images::samples::writeImage(work_, "e.jpg", 640, 480));
    auto added = upload(id, bytes, owner);
    ASSERT_EQ(added.status, 201);
    ASSERT_EQ(remove(id, std::string(added.body.at("id").as_string()), owner).status, 204);
    auto rows = rt::runBlocking(
        io(), pool_->query("SELECT type, data::text FROM restinu_outbox WHERE aggregate_id = $1 "
                           "AND type LIKE 'property.image%' ORDER BY seq",
                           id));
    ASSERT_EQ(rows.rows(), 2u);
    EXPECT_EQ(rows.get(0, 0), "property.image_added");
    EXPECT_EQ(rows.get(1, 0), "property.image_removed");
    auto e = contracts::PropertyImageChanged::parse(rows.get(1, 1));
    EXPECT_EQ(e.image_id, added.body.at("id").as_string());
    EXPECT_EQ(e.sha256, rt::sha256Hex(bytes));
    // The read model's projection takes them in its stride.
    project();
}

// The same service with its photos in S3 (s3rver behind a SigV4 check, from make test).
class ImagesOnS3Test : public ImagesTest {
protected:
    std::string serviceConfig() const override {
        return config() + "property:\n  images:\n    storage: s3\n    s3:\n      endpoint: \"" +
               testenv::require("RESTINU_TEST_S3_ENDPOINT") +
               "\"\n      bucket: " + testenv::require("RESTINU_TEST_S3_BUCKET") +
               "\n      region: " + testenv::require("RESTINU_TEST_S3_REGION") +
               "\n      access_key: " + testenv::require("RESTINU_TEST_S3_ACCESS_KEY") +
               "\n      secret_key: " + testenv::require("RESTINU_TEST_S3_SECRET_KEY") + "\n";
    }
};

TEST_F(ImagesOnS3Test, APhotoIsStoredServedInRangesAndRemovedInS3) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto bytes = bytesOf(images::samples::writeImage(work_, "s3.jpg", 1000, 750));
    auto added = upload(id, bytes, owner);
    ASSERT_EQ(added.status, 201) << json::serialize(added.body);
    auto url = std::string(added.body.at("renditions").as_array()[2].at("url").as_string());
    auto whole = file(url);
    ASSERT_EQ(whole.status, 200);
    auto path = work_ / "from-s3";
    images::samples::writeFile(path, whole.raw.body);
    EXPECT_EQ(images::samples::decode(path).width,
              added.body.at("renditions").as_array()[2].at("width").as_int64());
    auto part = file(url, {{"Range", "bytes=5-24"}});
    EXPECT_EQ(part.status, 206);
    EXPECT_EQ(part.raw.body, whole.raw.body.substr(5, 20));
    ASSERT_EQ(remove(id, std::string(added.body.at("id").as_string()), owner).status, 204);
    EXPECT_EQ(file(url).status, 404);
}

// Storage that cannot be reached: a clear 503 to retry, never a 500, and nothing written.
class ImagesStorageDownTest : public ImagesTest {
protected:
    std::string serviceConfig() const override {
        return config() +
               "property:\n  images:\n    storage: s3\n    s3:\n      endpoint: "
               "\"http://127.0.0.1:1\"\n      bucket: b\n      access_key: k\n      "
               "secret_key: s\n";
    }
};

TEST_F(ImagesStorageDownTest, UploadsAndFilesAre503WithRetryAfter) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto bytes = bytesOf(images::samples::writeImage(work_, "down.jpg", 640, 480));
    auto r = upload(id, bytes, owner);
    EXPECT_EQ(r.status, 503) << json::serialize(r.body);
    EXPECT_EQ(r.raw.header("Retry-After"), "1");
    EXPECT_EQ(imagesOf(id, owner).size(), 0u);
    auto f = file("/api/v1/images/" + rt::sha256Hex(bytes) + "-320.webp");
    EXPECT_EQ(f.status, 503);
}

}  // namespace
}  // namespace restinu::property
