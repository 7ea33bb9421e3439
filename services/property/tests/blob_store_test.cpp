// The photo blob stores (blob_store.hpp): the same behaviour from a real folder and from a real
// S3-compatible server (s3rver from scripts/testenv.sh, which checks Signature V4 and the
// payload hash as S3 does), then what is particular to each.
#include "blob_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <vector>

#include "async_test.hpp"
#include "restinu/rt/curl.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/worker_pool.hpp"
#include "test_env.hpp"

namespace restinu::property::images {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

enum class Kind { Local, S3 };
void PrintTo(Kind k, std::ostream* os) {
    *os << (k == Kind::Local ? "Local" : "S3");
}

S3Options s3Options() {
    S3Options o;
    o.endpoint = testenv::require("RESTINU_TEST_S3_ENDPOINT");
    o.bucket = testenv::require("RESTINU_TEST_S3_BUCKET");
    o.region = testenv::require("RESTINU_TEST_S3_REGION");
    o.access_key = testenv::require("RESTINU_TEST_S3_ACCESS_KEY");
    o.secret_key = testenv::require("RESTINU_TEST_S3_SECRET_KEY");
    o.timeout = 20s;
    return o;
}

std::string randomBytes(std::size_t n) {
    std::mt19937_64 rng(std::random_device{}());
    std::string out(n, '\0');
    for (auto& c : out) {
        c = static_cast<char>(rng() & 0xff);
    }
    return out;
}

// A key as the photo pipeline names them: a fresh SHA-256-like name and a rendition suffix.
std::string freshKey(std::string_view suffix = "-1280.webp") {
    std::string key;
    rt::appendRandomHex(key, 64);
    return key + std::string(suffix);
}

// Whatever a store call threw, as "Type: what()"; "" when it returned.
template <class Call>
rt::Task<std::string> failure(Call call) {
    try {
        co_await call();
    } catch (const std::invalid_argument& e) {
        co_return std::string("invalid_argument: ") + e.what();
    } catch (const BlobStoreError& e) {
        co_return std::string("BlobStoreError: ") + e.what();
    } catch (const std::exception& e) {
        co_return std::string("other: ") + e.what();
    }
    co_return std::string();
}

int count(std::string_view text, std::string_view part) {
    int n = 0;
    for (auto at = text.find(part); at != text.npos; at = text.find(part, at + part.size())) {
        ++n;
    }
    return n;
}

// A folder of its own for each test: the files to put and the local store's root.
class BlobFiles : public ::testing::Test {
protected:
    void SetUp() override {
        std::string name = "restinu-blob-";
        rt::appendRandomHex(name, 16);
        dir_ = fs::temp_directory_path() / name;
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string file(const std::string& bytes) {
        std::string name = "upload-";
        rt::appendRandomHex(name, 16);
        const auto path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }
    std::string root() const { return (dir_ / "store").string(); }

    // Runs `body` on a fresh loop with the store `make` builds on it.
    void run(std::function<BlobStorePtr(rt::Curl&)> make,
             std::function<rt::Task<void>(BlobStore&)> body) {
        testing::runAsync([&](boost::asio::io_context& io) -> rt::Task<void> {
            rt::Curl curl(io);
            auto store = make(curl);
            co_await body(*store);
        });
    }

    fs::path dir_;
    rt::WorkerPool pool_{2};
};

// --- Both stores -----------------------------------------------------------------------------

class BlobStoreTest : public BlobFiles, public ::testing::WithParamInterface<Kind> {
protected:
    void run(std::function<rt::Task<void>(BlobStore&)> body) {
        BlobFiles::run(
            [this](rt::Curl& curl) {
                return GetParam() == Kind::Local ? localBlobStore(root(), pool_)
                                                 : s3BlobStore(s3Options(), curl, pool_);
            },
            std::move(body));
    }
};

TEST_P(BlobStoreTest, PutThenGetReturnsTheSameBytesAndType) {
    const auto bytes = randomBytes(1000);
    const auto path = file(bytes);
    const auto key = freshKey();
    run([&](BlobStore& s) -> rt::Task<void> {
        co_await s.put(key, path, "image/webp");
        auto blob = co_await s.get(key, std::nullopt);
        EXPECT_TRUE(blob.has_value());
        if (blob) {
            EXPECT_TRUE(blob->bytes == bytes) << blob->bytes.size() << " bytes";
            EXPECT_EQ(blob->first, 0U);
            EXPECT_EQ(blob->total_size, 1000U);
            EXPECT_EQ(blob->content_type, "image/webp");
        }
    });
}

TEST_P(BlobStoreTest, ARangeGetReturnsExactlyThoseBytes) {
    const auto bytes = randomBytes(1000);
    const auto path = file(bytes);
    const auto key = freshKey();
    run([&](BlobStore& s) -> rt::Task<void> {
        co_await s.put(key, path, "image/jpeg");
        auto part = co_await s.get(key, ByteRange{10, 99});
        EXPECT_TRUE(part.has_value());
        if (part) {
            EXPECT_EQ(part->bytes.size(), 90U);
            EXPECT_TRUE(part->bytes == bytes.substr(10, 90));
            EXPECT_EQ(part->first, 10U);
            EXPECT_EQ(part->total_size, 1000U);
            EXPECT_EQ(part->content_type, "image/jpeg");
        }
        auto one = co_await s.get(key, ByteRange{0, 0});
        EXPECT_TRUE(one && one->bytes == bytes.substr(0, 1));
        // A last byte past the end means up to the end, as in HTTP.
        auto tail = co_await s.get(key, ByteRange{990, 5000});
        EXPECT_TRUE(tail && tail->bytes == bytes.substr(990) && tail->first == 990U &&
                    tail->total_size == 1000U);
        std::uint64_t total = 0;
        try {
            co_await s.get(key, ByteRange{1000, 1010});
            ADD_FAILURE() << "a range past the end was answered";
        } catch (const RangeNotSatisfiable& e) {
            total = e.totalSize();
        }
        EXPECT_EQ(total, 1000U);
        auto backwards = [&]() -> rt::Task<void> { co_await s.get(key, ByteRange{20, 10}); };
        EXPECT_TRUE((co_await failure(backwards)).starts_with("invalid_argument"));
    });
}

TEST_P(BlobStoreTest, AMissingKeyIsNoBlob) {
    run([&](BlobStore& s) -> rt::Task<void> {
        EXPECT_FALSE(co_await s.get(freshKey(), std::nullopt));
        EXPECT_FALSE(co_await s.get(freshKey(), ByteRange{0, 9}));
    });
}

TEST_P(BlobStoreTest, ExistsTellsWhetherTheKeyIsStored) {
    const auto path = file(randomBytes(64));
    const auto key = freshKey();
    run([&](BlobStore& s) -> rt::Task<void> {
        EXPECT_FALSE(co_await s.exists(key));
        co_await s.put(key, path, "image/webp");
        EXPECT_TRUE(co_await s.exists(key));
        EXPECT_FALSE(co_await s.exists(freshKey()));
    });
}

TEST_P(BlobStoreTest, RemoveThenGetIsNoBlob) {
    const auto path = file(randomBytes(300));
    const auto key = freshKey();
    run([&](BlobStore& s) -> rt::Task<void> {
        co_await s.put(key, path, "image/webp");
        co_await s.remove(key);
        EXPECT_FALSE(co_await s.get(key, std::nullopt));
        EXPECT_FALSE(co_await s.exists(key));
    });
}

TEST_P(BlobStoreTest, RemoveOfAnAbsentKeySucceeds) {
    const auto key = freshKey();
    run([&](BlobStore& s) -> rt::Task<void> {
        auto twice = [&]() -> rt::Task<void> {
            co_await s.remove(key);
            co_await s.remove(key);
        };
        EXPECT_EQ(co_await failure(twice), "");
    });
}

TEST_P(BlobStoreTest, PutOfTheSameKeyTwiceIsFine) {
    const auto bytes = randomBytes(500);
    const auto path = file(bytes);
    const auto key = freshKey("-orig.jpg");
    run([&](BlobStore& s) -> rt::Task<void> {
        auto twice = [&]() -> rt::Task<void> {
            co_await s.put(key, path, "image/jpeg");
            co_await s.put(key, path, "image/jpeg");
        };
        EXPECT_EQ(co_await failure(twice), "");
        auto blob = co_await s.get(key, std::nullopt);
        EXPECT_TRUE(blob && blob->bytes == bytes && blob->total_size == 500U);
    });
}

TEST_P(BlobStoreTest, BadKeysAreRefused) {
    const auto path = file("x");
    run([&](BlobStore& s) -> rt::Task<void> {
        const std::vector<std::string> keys = {"",
                                               "..",
                                               ".",
                                               "../escape",
                                               "ab/../../escape",
                                               "/etc/passwd",
                                               ".hidden",
                                               "-dash",
                                               "UPPER.webp",
                                               "a b",
                                               "a\\b",
                                               "a%2f..",
                                               std::string(201, 'a')};
        for (const auto& key : keys) {
            auto put = [&]() -> rt::Task<void> { co_await s.put(key, path, "image/webp"); };
            auto get = [&]() -> rt::Task<void> { co_await s.get(key, std::nullopt); };
            auto exists = [&]() -> rt::Task<void> { co_await s.exists(key); };
            auto remove = [&]() -> rt::Task<void> { co_await s.remove(key); };
            EXPECT_TRUE((co_await failure(put)).starts_with("invalid_argument:")) << key;
            EXPECT_TRUE((co_await failure(get)).starts_with("invalid_argument:")) << key;
            EXPECT_TRUE((co_await failure(exists)).starts_with("invalid_argument:")) << key;
            EXPECT_TRUE((co_await failure(remove)).starts_with("invalid_argument:")) << key;
        }
    });
    EXPECT_FALSE(fs::exists(dir_ / "escape"));
    EXPECT_FALSE(fs::exists(root()));  // nothing was written at all
}

TEST_P(BlobStoreTest, AFiveMegabyteObjectRoundTrips) {
    constexpr std::size_t kSize = 5 << 20;
    const auto bytes = randomBytes(kSize);
    const auto path = file(bytes);
    const auto key = freshKey("-orig.png");
    run([&](BlobStore& s) -> rt::Task<void> {
        co_await s.put(key, path, "image/png");
        auto blob = co_await s.get(key, std::nullopt);
        EXPECT_TRUE(blob && blob->bytes == bytes && blob->total_size == kSize);
        auto tail = co_await s.get(key, ByteRange{kSize - 100, kSize - 1});
        EXPECT_TRUE(tail && tail->bytes == bytes.substr(kSize - 100) && tail->total_size == kSize);
    });
}

TEST_P(BlobStoreTest, PutOfAMissingFileFailsAndStoresNothing) {
    const auto key = freshKey();
    const auto missing = (dir_ / "no-such-file").string();
    run([&](BlobStore& s) -> rt::Task<void> {
        auto put = [&]() -> rt::Task<void> { co_await s.put(key, missing, "image/webp"); };
        const auto why = co_await failure(put);
        EXPECT_TRUE(why.starts_with("BlobStoreError:") && why.find("no-such-file") != why.npos)
            << why;
        EXPECT_FALSE(co_await s.exists(key));
    });
}

INSTANTIATE_TEST_SUITE_P(Stores, BlobStoreTest, ::testing::Values(Kind::Local, Kind::S3),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                             return info.param == Kind::Local ? "Local" : "S3";
                         });

// --- The local store -------------------------------------------------------------------------

class LocalBlobStoreTest : public BlobFiles {
protected:
    void run(std::function<rt::Task<void>(BlobStore&)> body) {
        BlobFiles::run([this](rt::Curl&) { return localBlobStore(root(), pool_); },
                       std::move(body));
    }
};

TEST_F(LocalBlobStoreTest, FilesFanOutByTheirFirstTwoCharactersAndNoTemporaryIsLeft) {
    const auto bytes = randomBytes(2000);
    const auto path = file(bytes);
    const auto key = "ab" + freshKey().substr(2);
    run([&](BlobStore& s) -> rt::Task<void> { co_await s.put(key, path, "image/webp"); });
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(fs::path(root()) / "ab")) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{key, key + "#type"}));
    std::ifstream in(fs::path(root()) / "ab" / key, std::ios::binary);
    const std::string stored((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(stored == bytes);
}

TEST_F(LocalBlobStoreTest, AFailedPutLeavesNoFileBehind) {
    const auto key = "cd" + freshKey().substr(2);
    const auto missing = (dir_ / "gone").string();
    run([&](BlobStore& s) -> rt::Task<void> {
        auto put = [&]() -> rt::Task<void> { co_await s.put(key, missing, "image/webp"); };
        EXPECT_TRUE((co_await failure(put)).starts_with("BlobStoreError:"));
    });
    const auto folder = fs::path(root()) / "cd";
    EXPECT_TRUE(!fs::exists(folder) || fs::is_empty(folder));
}

// --- The S3 store ----------------------------------------------------------------------------

class S3BlobStoreTest : public BlobFiles {
protected:
    void run(S3Options o, std::function<rt::Task<void>(BlobStore&)> body) {
        BlobFiles::run([&](rt::Curl& curl) { return s3BlobStore(o, curl, pool_); },
                       std::move(body));
    }

    // What each call threw, one line per call.
    std::string failures(S3Options o, const std::string& key) {
        const auto path = file("photo");
        std::string out;
        run(std::move(o), [&](BlobStore& s) -> rt::Task<void> {
            auto put = [&]() -> rt::Task<void> { co_await s.put(key, path, "image/webp"); };
            auto get = [&]() -> rt::Task<void> { co_await s.get(key, std::nullopt); };
            auto exists = [&]() -> rt::Task<void> { co_await s.exists(key); };
            auto remove = [&]() -> rt::Task<void> { co_await s.remove(key); };
            out += "put " + co_await failure(put) + "\n";
            out += "get " + co_await failure(get) + "\n";
            out += "exists " + co_await failure(exists) + "\n";
            out += "remove " + co_await failure(remove) + "\n";
        });
        return out;
    }
};

TEST_F(S3BlobStoreTest, AWrongSecretKeyIsRefusedWithAClearError) {
    auto o = s3Options();
    o.secret_key = "not-the-secret";
    const auto key = freshKey();
    const auto why = failures(o, key);
    const auto line = [&](std::string call, std::string method) {
        return call + " BlobStoreError: S3 " + method + " " + o.bucket + "/" + key +
               " answered 403 SignatureDoesNotMatch: The request signature we calculated does "
               "not match the signature you provided. Check your key and signing method.\n";
    };
    EXPECT_EQ(why, line("put", "PUT") + line("get", "GET") + line("exists", "GET") +
                       line("remove", "DELETE"));
}

TEST_F(S3BlobStoreTest, AnUnknownAccessKeyIsRefused) {
    auto o = s3Options();
    o.access_key = "NOBODY";
    const auto why = failures(o, freshKey());
    EXPECT_EQ(count(why, " answered 403 InvalidAccessKeyId"), 4) << why;
}

TEST_F(S3BlobStoreTest, AMissingBucketIsAnErrorNotAMissingObject) {
    auto o = s3Options();
    o.bucket = "restinu-no-such-bucket";
    const auto why = failures(o, freshKey());
    EXPECT_EQ(count(why, " answered 404 NoSuchBucket"), 4) << why;
}

TEST_F(S3BlobStoreTest, ATransferThatCannotConnectIsATransientError) {
    auto o = s3Options();
    o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
    bool transient = false;
    run(o, [&](BlobStore& s) -> rt::Task<void> {
        try {
            co_await s.get(freshKey(), std::nullopt);
        } catch (const BlobStoreError& e) {
            transient = e.transient();
        }
    });
    EXPECT_TRUE(transient);
}

// The test server checks what S3 checks, so that the tests above prove the signing right.
TEST_F(S3BlobStoreTest, TheTestServerRefusesUnsignedRequestsAndAWrongPayloadHash) {
    const auto o = s3Options();
    testing::runAsync([&](boost::asio::io_context& io) -> rt::Task<void> {
        rt::Curl curl(io);
        const std::string url = o.endpoint + "/" + o.bucket + "/" + freshKey();
        rt::CurlEasy unsigned_get;
        curl_easy_setopt(unsigned_get.get(), CURLOPT_URL, url.c_str());
        co_await curl.perform(unsigned_get);
        EXPECT_EQ(unsigned_get.status(), 403);
        EXPECT_NE(unsigned_get.responseBody().find("<Code>AccessDenied</Code>"), std::string::npos);

        const std::string body = "not what was signed";
        const std::string sigv4 = "aws:amz:" + o.region + ":s3";
        rt::CurlEasy put;
        curl_easy_setopt(put.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(put.get(), CURLOPT_AWS_SIGV4, sigv4.c_str());
        curl_easy_setopt(put.get(), CURLOPT_USERNAME, o.access_key.c_str());
        curl_easy_setopt(put.get(), CURLOPT_PASSWORD, o.secret_key.c_str());
        put.header("x-amz-content-sha256: " + rt::sha256Hex("something else"));
        curl_easy_setopt(put.get(), CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(put.get(), CURLOPT_POSTFIELDS, body.c_str());
        co_await curl.perform(put);
        EXPECT_EQ(put.status(), 400);
        EXPECT_NE(put.responseBody().find("<Code>XAmzContentSHA256Mismatch</Code>"),
                  std::string::npos)
            << put.responseBody();
    });
}

}  // namespace
}  // namespace restinu::property::images
