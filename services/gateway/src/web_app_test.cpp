#include "web_app.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace restinu::gateway {
namespace {

namespace fs = std::filesystem;

class WebAppTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("restinu-web-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_ / "assets");
        write("index.html", "<!doctype html><title>REST-iN-U</title>");
        write("assets/index-Ab12Cd34.js", "console.log('app')");
        write("favicon.svg", "<svg/>");
    }
    void TearDown() override { fs::remove_all(dir_); }
    void write(const std::string& name, const std::string& body) {
        std::ofstream(dir_ / name, std::ios::binary) << body;
    }
    rt::Response get(std::string_view path, std::string_view if_none_match = {},
                     std::string_view accept_encoding = {}) {
        rt::Request req;
        req.method = rt::Method::Get;
        req.path = path;
        if (!if_none_match.empty()) {
            req.headers.emplace_back("If-None-Match", if_none_match);
        }
        if (!accept_encoding.empty()) {
            req.headers.emplace_back("Accept-Encoding", accept_encoding);
        }
        return app_->serve(req);
    }
    void load() { app_ = WebApp::load(dir_.string(), "default-src 'self'"); }

    fs::path dir_;
    std::shared_ptr<const WebApp> app_;
};

TEST_F(WebAppTest, TheHtmlIsRevalidatedAndCarriesTheContentSecurityPolicy) {
    load();
    auto res = get("/");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.payload(), "<!doctype html><title>REST-iN-U</title>");
    EXPECT_EQ(res.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(res.header("Cache-Control"), "no-cache");
    EXPECT_EQ(res.header("Content-Security-Policy"), "default-src 'self'");
    EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
    // Revalidation: the ETag answers 304 with no body, weak or among others.
    const std::string etag(res.header("ETag"));
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(get("/", etag).status, 304);
    EXPECT_TRUE(get("/", etag).payload().empty());
    EXPECT_EQ(get("/", "\"other\", W/" + etag).status, 304);
    EXPECT_EQ(get("/", "\"other\"").status, 200);
}

TEST_F(WebAppTest, HashedAssetsAreImmutableAndTypedByExtension) {
    load();
    auto js = get("/assets/index-Ab12Cd34.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_EQ(js.payload(), "console.log('app')");
    EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(js.header("Cache-Control"), "public, max-age=31536000, immutable");
    // Every answer shares the file's bytes: nothing is copied per request.
    EXPECT_EQ(get("/assets/index-Ab12Cd34.js").shared_body.get(), js.shared_body.get());
    EXPECT_TRUE(js.header("Content-Security-Policy").empty());
    auto svg = get("/favicon.svg");
    EXPECT_EQ(svg.content_type, "image/svg+xml");
    EXPECT_EQ(svg.header("Cache-Control"), "no-cache");
    EXPECT_EQ(contentTypeOf("maplibre-gl-worker-x1.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(contentTypeOf("noext"), "application/octet-stream");
}

TEST_F(WebAppTest, TheAppsOwnRoutesGetTheHtmlButMissingFilesAndApiPathsAre404) {
    load();
    for (std::string_view route : {"/search", "/properties/01a24d51-8526-75dc", "/account/kyc"}) {
        auto res = get(route);
        EXPECT_EQ(res.status, 200) << route;
        EXPECT_EQ(res.payload(), "<!doctype html><title>REST-iN-U</title>") << route;
    }
    for (std::string_view missing :
         {"/assets/gone-1234.js", "/robots.txt", "/api/v2/anything", "/api/v1/nope",
          "/../etc/passwd", "/assets/../../etc/passwd.txt", "/.env", "/a/./b"}) {
        auto res = get(missing);
        EXPECT_EQ(res.status, 404) << missing;
        EXPECT_EQ(res.content_type, "application/problem+json") << missing;
    }
}

TEST_F(WebAppTest, TheBuildsCompressedSiblingsAreSentToClientsThatTakeThem) {
    write("assets/index-Ab12Cd34.js.br", "BR-BYTES");
    write("assets/index-Ab12Cd34.js.gz", "GZ-BYTES");
    write("index.html.gz", "GZ-HTML");
    load();
    auto br = get("/assets/index-Ab12Cd34.js", {}, "gzip, deflate, br, zstd");
    EXPECT_EQ(br.payload(), "BR-BYTES");
    EXPECT_EQ(br.header("Content-Encoding"), "br");
    EXPECT_EQ(br.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(br.content_type, "text/javascript; charset=utf-8");
    auto gz = get("/assets/index-Ab12Cd34.js", {}, "gzip");
    EXPECT_EQ(gz.payload(), "GZ-BYTES");
    EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
    auto plain = get("/assets/index-Ab12Cd34.js");
    EXPECT_EQ(plain.payload(), "console.log('app')");
    EXPECT_TRUE(plain.header("Content-Encoding").empty());
    EXPECT_EQ(plain.header("Vary"), "Accept-Encoding");
    // q=0 refuses a coding; "*" takes the rest.
    EXPECT_EQ(get("/assets/index-Ab12Cd34.js", {}, "br;q=0, gzip;q=0.5").payload(), "GZ-BYTES");
    EXPECT_EQ(get("/assets/index-Ab12Cd34.js", {}, "br;q=0.0, gzip; q=0").payload(),
              "console.log('app')");
    EXPECT_EQ(get("/assets/index-Ab12Cd34.js", {}, "*").payload(), "BR-BYTES");
    EXPECT_EQ(get("/assets/index-Ab12Cd34.js", {}, "BR;Q=1").payload(), "BR-BYTES");
    // Each representation has its own ETag, and a 304 is for the one the client would get.
    const std::string br_tag(br.header("ETag"));
    const std::string plain_tag(plain.header("ETag"));
    EXPECT_NE(br_tag, plain_tag);
    EXPECT_NE(br_tag, std::string(gz.header("ETag")));
    auto revalidated = get("/assets/index-Ab12Cd34.js", br_tag, "br");
    EXPECT_EQ(revalidated.status, 304);
    EXPECT_TRUE(revalidated.header("Content-Encoding").empty());
    EXPECT_EQ(get("/assets/index-Ab12Cd34.js", plain_tag, "br").status, 200);
    // The HTML (with only a .gz) and the app's routes; the siblings are no files of their own.
    EXPECT_EQ(get("/properties/x", {}, "br, gzip").payload(), "GZ-HTML");
    EXPECT_EQ(get("/assets/index-Ab12Cd34.js.br").status, 404);
    EXPECT_EQ(get("/index.html.gz").status, 404);
    // A file with no sibling varies on nothing.
    EXPECT_TRUE(get("/favicon.svg", {}, "br").header("Vary").empty());
    EXPECT_EQ(app_->files(), 3U);
}

TEST(AcceptEncodingTest, ReadsCodingsQValuesAndTheWildcard) {
    EXPECT_TRUE(accepts("gzip, deflate, br", "br"));
    EXPECT_TRUE(accepts(" gzip ,br ", "gzip"));
    EXPECT_FALSE(accepts("gzip, deflate", "br"));
    EXPECT_FALSE(accepts("", "gzip"));
    EXPECT_FALSE(accepts("br;q=0", "br"));
    EXPECT_FALSE(accepts("br; q=0.000", "br"));
    EXPECT_TRUE(accepts("br;q=0.001", "br"));
    EXPECT_TRUE(accepts("*;q=0.1", "gzip"));
    EXPECT_FALSE(accepts("*, gzip;q=0", "gzip"));
    EXPECT_FALSE(accepts("*;q=0", "br"));
    EXPECT_FALSE(accepts("brotli", "br"));
}

TEST_F(WebAppTest, ADirectoryWithoutIndexHtmlIsRefusedAtStart) {
    fs::remove(dir_ / "index.html");
    EXPECT_THROW(load(), std::runtime_error);
}

}  // namespace
}  // namespace restinu::gateway
