// Spooled request bodies (uploads): the server writes them to a file as they arrive, the
// handler gets the file with its size and SHA-256, and the client sends one on from its file.

#include "restinu/rt/spool.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <string>
#include <thread>

#include "restinu/rt/blocking.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/http_server.hpp"
#include "restinu/rt/router.hpp"
#include "test_server.hpp"

namespace restinu::rt {
namespace {

using testing::pattern;
using testing::RawClient;
using testing::ServerThread;

// /upload is spooled (up to 16 MiB); /body is not. Both say what they received.
Router spoolRouter() {
    Router r;
    r.post("/upload", Access::none(), [](Request& req) -> Task<Response> {
        if (!req.spooled) {
            co_return Response::text(500,
                                     "not spooled; in memory " + std::to_string(req.body.size()));
        }
        auto whole = req.spooled->read(0, static_cast<std::size_t>(req.spooled->size()) + 10);
        bool intact = whole == pattern(whole.size()) && req.body.empty();
        co_return Response::text(200, std::to_string(req.spooled->size()) + " " +
                                          (intact ? "intact " : "bad ") + req.spooled->sha256());
    });
    r.post("/body", Access::none(), [](Request& req) -> Task<Response> {
        co_return Response::text(
            200, (req.spooled ? "spooled " : "memory ") + std::to_string(req.body.size()));
    });
    return r;
}

ServerOptions spoolOptions() {
    ServerOptions o;
    o.body_limit = 1000;  // far below the uploads: only the spool can take them
    o.spool = [](Method m, std::string_view path) -> std::uint64_t {
        return m == Method::Post && path == "/upload" ? std::uint64_t{16} << 20 : 0;
    };
    return o;
}

std::string bodyOf(const std::string& response) {
    auto p = response.find("\r\n\r\n");
    return p == std::string::npos ? "" : response.substr(p + 4);
}

std::string post(std::string_view path, const std::string& body) {
    return "POST " + std::string(path) +
           " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
}

TEST(Spool, ALargeUploadReachesTheHandlerAsAFileWithItsDigest) {
    ServerThread s(spoolRouter(), spoolOptions());
    RawClient c(s.port());
    auto body = pattern(9'000'000);
    ASSERT_TRUE(c.send(post("/upload", body)));
    EXPECT_EQ(bodyOf(c.readResponses(1)), "9000000 intact " + sha256Hex(body));
}

TEST(Spool, ASmallUploadThatCameWholeIsSpooledToo) {
    ServerThread s(spoolRouter(), spoolOptions());
    RawClient c(s.port());
    ASSERT_TRUE(c.send(post("/upload", pattern(10))));
    EXPECT_EQ(bodyOf(c.readResponses(1)), "10 intact " + sha256Hex(pattern(10)));
    // The same connection goes on with an ordinary request.
    ASSERT_TRUE(c.send(post("/body", "abc")));
    EXPECT_EQ(bodyOf(c.readResponses(1)), "memory 3");
}

TEST(Spool, AChunkedUploadIsSpooledWhole) {
    ServerThread s(spoolRouter(), spoolOptions());
    RawClient c(s.port());
    auto body = pattern(700'000);
    std::string req = "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < body.size(); at += 100'000) {
        auto piece = body.substr(at, 100'000);
        char size[20];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        req += size + piece + "\r\n";
    }
    req += "0\r\n\r\n";
    ASSERT_TRUE(c.send(req));
    EXPECT_EQ(bodyOf(c.readResponses(1)), "700000 intact " + sha256Hex(body));
}

TEST(Spool, AnUploadOverTheRouteLimitIs413BeforeItsBodyIsRead) {
    ServerThread s(spoolRouter(), spoolOptions());
    RawClient c(s.port());
    // Only the head: the declared length alone is refused, naming the route's limit.
    ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 17000000\r\n\r\n"));
    auto r = c.readAll();
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 413") << r;
    EXPECT_NE(r.find(std::to_string(std::uint64_t{16} << 20)), std::string::npos) << r;
}

TEST(Spool, OtherRoutesKeepTheServersBodyLimit) {
    ServerThread s(spoolRouter(), spoolOptions());
    RawClient c(s.port());
    ASSERT_TRUE(c.send(post("/body", pattern(5000))));
    auto r = c.readAll();
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 413") << r;
}

TEST(Spool, AStalledUploadIsCutOffButASlowOneThatMovesGoesOn) {
    auto o = spoolOptions();
    o.body_timeout = std::chrono::milliseconds(400);
    ServerThread s(spoolRouter(), o);
    auto body = pattern(600'000);
    {
        // Half the body, then nothing: the connection ends without an answer.
        RawClient c(s.port(), std::chrono::milliseconds(3000));
        ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 600000\r\n\r\n" +
                           body.substr(0, 300'000)));
        auto started = std::chrono::steady_clock::now();
        auto r = c.readAll();
        EXPECT_EQ(r, "");
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500));
    }
    {
        // The whole body in pieces 250 ms apart (longer in total than the timeout): it moves,
        // so it is taken.
        RawClient c(s.port());
        ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 600000\r\n\r\n"));
        for (std::size_t at = 0; at < body.size(); at += 300'000) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            ASSERT_TRUE(c.send(body.substr(at, 300'000)));
        }
        EXPECT_EQ(bodyOf(c.readResponses(1)), "600000 intact " + sha256Hex(body));
    }
}

TEST(Spool, ALargeUploadThenAnotherRequestOnTheSameConnection) {
    ServerThread s(spoolRouter(), spoolOptions());
    RawClient c(s.port());
    auto body = pattern(2'000'000);
    ASSERT_TRUE(c.send(post("/upload", body) + post("/body", "xyz")));
    auto both = c.readResponses(2);
    EXPECT_NE(both.find("2000000 intact " + sha256Hex(body)), std::string::npos);
    EXPECT_NE(both.find("memory 3"), std::string::npos) << both.substr(0, 400);
}

TEST(Spool, ExpectContinueIsAnsweredBeforeTheUploadIsSent) {
    ServerThread s(spoolRouter(), spoolOptions());
    RawClient c(s.port());
    auto body = pattern(300'000);
    ASSERT_TRUE(
        c.send("POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               "Content-Length: 300000\r\n\r\n"));
    EXPECT_EQ(c.readSome().substr(0, 25), "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(c.send(body));
    EXPECT_EQ(bodyOf(c.readResponses(1)), "300000 intact " + sha256Hex(body));
}

TEST(Spool, ASmallWholeUploadOverItsRouteLimitIs413) {
    auto o = spoolOptions();
    o.spool = [](Method, std::string_view path) -> std::uint64_t {
        return path == "/upload" ? 100 : 0;
    };
    ServerThread s(spoolRouter(), o);
    RawClient c(s.port());
    ASSERT_TRUE(c.send(post("/upload", pattern(200))));  // whole in one read: the fast path
    auto r = c.readAll();
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 413") << r;
}

// Past the process's spool budget an upload is 503 and closed, and nothing stays counted.
TEST(Spool, UploadsPastTheBudgetAre503AndTheBudgetComesBack) {
    SpooledBody::setBudget(std::uint64_t{1} << 20);
    {
        ServerThread s(spoolRouter(), spoolOptions());
        RawClient c(s.port());
        ASSERT_TRUE(c.send(post("/upload", pattern(3'000'000))));
        auto r = c.readAll();
        EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 503") << r.substr(0, 300);
        EXPECT_NE(r.find("service-unavailable"), std::string::npos);
        RawClient ok(s.port());
        ASSERT_TRUE(ok.send(post("/upload", pattern(500'000))));
        EXPECT_EQ(bodyOf(ok.readResponses(1)), "500000 intact " + sha256Hex(pattern(500'000)));
    }
    EXPECT_EQ(SpooledBody::spooledBytes(), 0u);
    SpooledBody::setBudget(std::uint64_t{1} << 30);
}

TEST(Spool, TheClientSendsASpooledBodyFromItsFile) {
    ServerThread s(spoolRouter(), spoolOptions());
    auto body = pattern(3'000'000);
    auto file = SpooledBody::create("");
    file->append(body);
    file->finish();
    EXPECT_EQ(file->size(), body.size());
    EXPECT_EQ(file->sha256(), sha256Hex(body));
    boost::asio::io_context io;
    HttpClient client(io);
    auto port = s.port();
    auto answer = runBlocking(io, [&]() -> Task<std::string> {
        ClientRequest req;
        req.port = port;
        req.method = Method::Post;
        req.target = "/upload";
        req.body_file = file;
        auto res = co_await client.request(req);
        co_return std::to_string(res.status) + " " + res.body;
    }());
    EXPECT_EQ(answer, "200 3000000 intact " + sha256Hex(body));
}

TEST(Spool, TheFileHasNoNameAndGoesWithItsLastHolder) {
    auto file = SpooledBody::create("");
    file->append("hello");
    file->finish();
    EXPECT_EQ(file->read(1, 3), "ell");
    EXPECT_EQ(file->read(3, 100), "lo");
    // Readable through its /proc path (what libraries that want a file name get).
    auto path = file->path();
    std::FILE* f = std::fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    char buf[8] = {};
    EXPECT_EQ(std::fread(buf, 1, sizeof buf, f), 5u);
    std::fclose(f);
    EXPECT_EQ(std::string(buf, 5), "hello");
    auto fd = file->fd();
    file.reset();
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed: nothing left behind
}

}  // namespace
}  // namespace restinu::rt
