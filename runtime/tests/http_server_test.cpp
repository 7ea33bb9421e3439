#include "restinu/rt/http_server.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <future>
#include <optional>
#include <thread>

#include "async_test.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/router.hpp"
#include "test_server.hpp"

namespace restinu::rt {
namespace {

namespace net = boost::asio;
using testing::pattern;
using testing::RawClient;
using testing::ServerThread;
using testing::sleepFor;

Router testRouter() {
    Router r;
    r.get("/echo/{text}", Access::none(), [](Request& req) -> Task<Response> {
        co_return Response::text(200, std::string(req.param("text")));
    });
    r.get("/sleep/{ms}", Access::none(), [](Request& req) -> Task<Response> {
        auto ms = std::stoi(std::string(req.param("ms")));
        co_await sleepFor(std::chrono::milliseconds(ms));
        co_return Response::text(200, "slept " + std::to_string(ms));
    });
    r.post("/body", Access::none(), [](Request& req) -> Task<Response> {
        co_return Response::text(200, "got " + std::to_string(req.body.size()));
    });
    r.post("/json", Access::none(), [](Request& req) -> Task<Response> {
        auto v = parseJsonBody(req);
        co_return jsonResponse(201, v);
    });
    r.get("/big/{n}", Access::none(), [](Request& req) -> Task<Response> {
        co_return Response::text(200, pattern(std::stoul(std::string(req.param("n")))));
    });
    r.post("/digest", Access::none(), [](Request& req) -> Task<Response> {
        co_return Response::text(200,
                                 std::to_string(req.body.size()) + " " +
                                     (req.body == pattern(req.body.size()) ? "intact" : "bad"));
    });
    r.get("/boom", Access::none(), [](Request&) -> Task<Response> {
        throw std::runtime_error("secret internal detail");
        co_return Response{};
    });
    r.get("/conflict", Access::none(), [](Request&) -> Task<Response> {
        throw ApiError(problems::kConflict, "it clashes");
        co_return Response{};
    });
    return r;
}

std::string get(std::string_view path, std::string_view extra = "") {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

std::string bodyOf(const std::string& response) {
    auto p = response.find("\r\n\r\n");
    return p == std::string::npos ? "" : response.substr(p + 4);
}

TEST(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    ASSERT_TRUE(c.connected());
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(c.send(get("/echo/n" + std::to_string(i))));
        auto r = c.readResponses(1);
        EXPECT_EQ(r.substr(0, 15), "HTTP/1.1 200 OK");
        EXPECT_EQ(bodyOf(r), "n" + std::to_string(i));
    }
    EXPECT_EQ(s.server().connections(), 1u);
}

TEST(HttpServer, PipelinedRequestsAnswerInOrderEvenWhenTheFirstIsSlow) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    ASSERT_TRUE(c.send(get("/sleep/150") + get("/echo/second") + get("/echo/third")));
    auto all = c.readResponses(3);
    auto first = all.find("slept 150");
    auto second = all.find("second");
    auto third = all.find("third");
    ASSERT_NE(first, std::string::npos) << all;
    ASSERT_NE(second, std::string::npos) << all;
    ASSERT_NE(third, std::string::npos) << all;
    EXPECT_LT(first, second);
    EXPECT_LT(second, third);
}

TEST(HttpServer, MalformedRequestGets400ProblemAndTheConnectionCloses) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    ASSERT_TRUE(c.send("GET /echo/x HTTP/1.1\r\nHost t\r\nBad Header\r\n\r\n"));
    auto r = c.readAll();
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 400") << r;
    EXPECT_NE(r.find("application/problem+json"), std::string::npos);
    EXPECT_NE(r.find("https://restinu.dev/problems/bad-request"), std::string::npos);
    EXPECT_TRUE(c.closedByPeer());
}

TEST(HttpServer, OversizedBodyGets413) {
    ServerOptions o;
    o.body_limit = 1000;
    ServerThread s(testRouter(), o);
    RawClient c(s.port());
    // Far over the limit: the server answers after the head and must still deliver the 413
    // while the client keeps sending (a plain close would reset the connection).
    std::string body(2 << 20, 'x');
    c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body);
    auto r = c.readAll();
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 413") << r;
    EXPECT_NE(r.find("payload-too-large"), std::string::npos);

    RawClient ok(s.port());
    ok.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
    EXPECT_EQ(bodyOf(ok.readResponses(1)), "got 10");
}

TEST(HttpServer, MalformedJsonBodyGets400ProblemAndTheConnectionStaysUsable) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    std::string bad = R"({"title": "flat", )";
    c.send(
        "POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(bad.size()) + "\r\n\r\n" + bad);
    auto r = c.readResponses(1);
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 400") << r;
    EXPECT_NE(r.find("application/problem+json"), std::string::npos);
    EXPECT_NE(r.find("https://restinu.dev/problems/malformed-json"), std::string::npos);
    std::string good = R"({"title":"flat"})";
    c.send(
        "POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(good.size()) + "\r\n\r\n" + good);
    r = c.readResponses(1);
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 201") << r;
    EXPECT_EQ(bodyOf(r), good);
}

TEST(HttpServer, ExpectContinueGetsA100BeforeTheBody) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    std::string got;
    for (int i = 0; i < 50 && got.find("\r\n\r\n") == std::string::npos; ++i) {
        got += c.readSome();
    }
    EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
    c.send("abcd");
    EXPECT_EQ(bodyOf(c.readResponses(1)), "got 4");
}

TEST(HttpServer, OversizedHeadersGet431) {
    ServerOptions o;
    o.header_limit = 1024;
    ServerThread s(testRouter(), o);
    RawClient c(s.port());
    c.send(get("/echo/x", "X-Big: " + std::string(4000, 'a') + "\r\n"));
    auto r = c.readAll();
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 431") << r;
}

TEST(HttpServer, ClientSendingHeadersOneBytePerSecondIsCutOff) {
    ServerOptions o;
    o.header_timeout = std::chrono::milliseconds(2000);
    ServerThread s(testRouter(), o);
    RawClient c(s.port(), std::chrono::milliseconds(200));
    std::string req = get("/echo/slow", "X-Padding: " + std::string(20, 'p') + "\r\n");
    auto started = std::chrono::steady_clock::now();
    bool cut = false;
    for (char ch : req) {
        if (!c.send(std::string_view(&ch, 1))) {
            cut = true;
            break;
        }
        auto r = c.readAll();  // waits up to 200 ms; empty while the server is waiting
        if (c.closedByPeer()) {
            cut = true;
            EXPECT_EQ(r, "");  // cut off without an answer
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
        if (std::chrono::steady_clock::now() - started > std::chrono::seconds(10)) {
            break;
        }
    }
    auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_TRUE(cut) << "the server waited for a trickling client";
    EXPECT_LT(elapsed, std::chrono::seconds(5));
    EXPECT_GE(elapsed, std::chrono::milliseconds(1500));
}

TEST(HttpServer, UnknownPathIs404AndWrongMethodIs405WithAllow) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    c.send(get("/nowhere"));
    auto r = c.readResponses(1);
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 404");
    auto problem = boost::json::parse(bodyOf(r)).as_object();
    EXPECT_EQ(problem.at("type").as_string(), "https://restinu.dev/problems/not-found");
    EXPECT_EQ(problem.at("instance").as_string(), "/nowhere");

    c.send("DELETE /echo/x HTTP/1.1\r\nHost: t\r\n\r\n");
    r = c.readResponses(1);
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 405");
    EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos) << r;
}

TEST(HttpServer, RequestIdIsKeptOrGeneratedAndEchoed) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    c.send(get("/echo/a", "X-Request-Id: client-id-1\r\n"));
    auto r = c.readResponses(1);
    EXPECT_NE(r.find("X-Request-Id: client-id-1\r\n"), std::string::npos) << r;
    c.send(get("/echo/b", "X-Request-Id: bad id with spaces\r\n"));
    r = c.readResponses(1);
    auto pos = r.find("X-Request-Id: ");
    ASSERT_NE(pos, std::string::npos);
    auto id = r.substr(pos + 14, r.find("\r\n", pos) - pos - 14);
    EXPECT_EQ(id.size(), 32u);
}

TEST(HttpServer, HandlerExceptionsBecomeProblemsWithoutInternalText) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    c.send(get("/boom"));
    auto r = c.readResponses(1);
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 500");
    EXPECT_EQ(r.find("secret internal detail"), std::string::npos);
    EXPECT_NE(r.find("https://restinu.dev/problems/internal"), std::string::npos);
    c.send(get("/conflict"));
    r = c.readResponses(1);
    EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 409");
    EXPECT_NE(r.find("it clashes"), std::string::npos);
}

TEST(HttpServer, MetricsCountByRouteTemplate) {
    ServerThread s(testRouter());
    RawClient c(s.port());
    c.send(get("/echo/1") + get("/echo/2") + get("/nowhere"));
    c.readResponses(3);
    auto text = s.metrics().render();
    EXPECT_NE(text.find("restinu_http_requests_total{route=\"/echo/{text}\",method=\"GET\","
                        "status=\"200\"} 2"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("restinu_http_requests_total{route=\"unmatched\",method=\"GET\","
                        "status=\"404\"} 1"),
              std::string::npos)
        << text;
}

TEST(HttpServer, MiddlewareWrapsHandlersInOrder) {
    Router r = testRouter();
    r.use([](Request& req, const Handler& next) -> Task<Response> {
        auto res = co_await next(req);
        res.header("X-Outer", "1");
        co_return res;
    });
    r.use([](Request& req, const Handler& next) -> Task<Response> {
        if (req.header("X-Block") == "yes") {
            throw ApiError(problems::kForbidden, "blocked");
        }
        co_return co_await next(req);
    });
    ServerThread s(std::move(r));
    RawClient c(s.port());
    c.send(get("/echo/x"));
    auto res = c.readResponses(1);
    EXPECT_NE(res.find("X-Outer: 1"), std::string::npos);
    c.send(get("/echo/x", "X-Block: yes\r\n"));
    res = c.readResponses(1);
    EXPECT_EQ(res.substr(0, 12), "HTTP/1.1 403");
}

TEST(HttpServer, SigtermDuringASlowRequestLetsItFinish) {
    ServerThread s(testRouter());
    net::signal_set signals(s.io(), SIGTERM);
    std::atomic<bool> drained{false};
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) {
            s.server().shutdown(std::chrono::milliseconds(5000), [&] {
                drained = true;
                s.io().stop();
            });
        }
    });
    RawClient slow(s.port());
    RawClient idle(s.port());
    idle.send(get("/echo/idle"));
    idle.readResponses(1);
    slow.send(get("/sleep/700"));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ::kill(::getpid(), SIGTERM);
    auto r = slow.readAll();
    EXPECT_EQ(r.substr(0, 15), "HTTP/1.1 200 OK") << r;
    EXPECT_NE(r.find("slept 700"), std::string::npos);
    EXPECT_NE(r.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(slow.closedByPeer());
    idle.readAll();
    EXPECT_TRUE(idle.closedByPeer());
    s.thread().join();
    EXPECT_TRUE(drained);
    RawClient late(s.port());
    EXPECT_FALSE(late.connected());
}

// --- HttpClient against the same server ---

// Runs the loop until `f` is ready, not until it is out of work: a pooled connection's
// watchdog timer may stay armed for seconds after its last request.
template <class T>
void runUntilReady(net::io_context& io, std::future<T>& f) {
    while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        if (io.stopped()) {
            io.restart();
        }
        io.run_one();
    }
}

template <class T>
T runOn(net::io_context& io, Task<T> task) {
    auto fut = net::co_spawn(io, std::move(task), net::use_future);
    runUntilReady(io, fut);
    return fut.get();
}

TEST(HttpClient, ReusesKeptAliveConnections) {
    ServerThread s(testRouter());
    net::io_context io;
    HttpClient client(io);
    auto port = s.port();
    auto bodies = runOn(io, [&]() -> Task<std::vector<std::string>> {
        std::vector<std::string> out;
        for (int i = 0; i < 10; ++i) {
            ClientRequest req;
            req.port = port;
            req.target = "/echo/" + std::to_string(i);
            auto res = co_await client.request(req);
            out.push_back(std::to_string(res.status) + ":" + res.body);
        }
        co_return out;
    }());
    ASSERT_EQ(bodies.size(), 10u);
    EXPECT_EQ(bodies[3], "200:3");
    EXPECT_EQ(client.connectionsOpened(), 1u);
    EXPECT_EQ(client.idleConnections("127.0.0.1", port), 1u);
}

// Messages larger than a socket's send buffer: the first part goes out at once, the rest when
// the peer has read (the write falls back to waiting); nothing may be lost or repeated.
TEST(HttpClient, MessagesLargerThanTheSocketBuffersArriveWhole) {
    ServerOptions o;
    o.body_limit = std::size_t{12} << 20;
    ServerThread s(testRouter(), o);
    net::io_context io;
    HttpClient client(io);
    auto port = s.port();
    auto results = runOn(io, [&]() -> Task<std::vector<std::string>> {
        std::vector<std::string> out;
        ClientRequest down;
        down.port = port;
        down.target = "/big/9000000";
        auto res = co_await client.request(down);
        out.push_back(std::to_string(res.body.size()) + " " +
                      (res.body == pattern(9'000'000) ? "intact" : "bad"));
        ClientRequest up;
        up.port = port;
        up.method = Method::Post;
        up.target = "/digest";
        up.body = pattern(10'000'000);
        out.push_back((co_await client.request(up)).body);
        co_return out;
    }());
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0], "9000000 intact");
    EXPECT_EQ(results[1], "10000000 intact");
}

TEST(HttpClient, DeadlineGivesTimeoutError) {
    ServerThread s(testRouter());
    net::io_context io;
    HttpClient client(io);
    ClientRequest req;
    req.port = s.port();
    req.target = "/sleep/2000";
    req.timeout = std::chrono::milliseconds(200);
    auto started = std::chrono::steady_clock::now();
    try {
        runOn(io, client.request(req));
        FAIL() << "no timeout";
    } catch (const HttpClientError& e) {
        EXPECT_EQ(e.kind(), HttpClientError::Kind::Timeout) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
}

TEST(HttpClient, AHeaderThatWouldSplitTheRequestIsRefusedBeforeAnythingIsSent) {
    ServerThread s(testRouter());
    net::io_context io;
    HttpClient client(io);
    for (auto [name, value] : {std::pair<std::string, std::string>{"X-Note", "a\r\nX-Evil: 1"},
                               {"X-Bad\nName", "v"},
                               {"X:Colon", "v"}}) {
        ClientRequest req;
        req.port = s.port();
        req.target = "/echo/x";
        req.headers.emplace_back(name, value);
        try {
            runOn(io, client.request(req));
            FAIL() << "sent " << name;
        } catch (const HttpClientError& e) {
            EXPECT_EQ(e.kind(), HttpClientError::Kind::Protocol) << e.what();
        }
    }
    EXPECT_EQ(client.connectionsOpened(), 0u);
}

// A server that reads the request and hangs up without a byte of answer (an instance killed
// mid-request): a Closed error for the caller, never a crash.
TEST(HttpClient, AServerThatHangsUpWithoutAnsweringIsAClosedError) {
    net::io_context server_io;
    net::ip::tcp::acceptor acceptor(server_io, {net::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    std::thread server([&] {
        for (int i = 0; i < 2; ++i) {
            auto s = acceptor.accept();
            char buf[4096];
            boost::system::error_code ec;
            s.read_some(net::buffer(buf), ec);
            s.close();
        }
    });
    net::io_context io;
    HttpClient client(io);
    for (auto method : {Method::Get, Method::Post}) {
        ClientRequest req;
        req.port = port;
        req.method = method;
        req.target = "/x";
        try {
            runOn(io, client.request(req));
            ADD_FAILURE() << "an answer from nowhere";
        } catch (const HttpClientError& e) {
            EXPECT_EQ(e.kind(), HttpClientError::Kind::Closed) << e.what();
        }
    }
    server.join();
}

// After a 101 the connection speaks another protocol: the answer is passed on, and the
// connection is not pooled for the next HTTP request.
TEST(HttpClient, AConnectionThatSwitchedProtocolsIsNotReused) {
    net::io_context server_io;
    net::ip::tcp::acceptor acceptor(server_io, {net::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    std::thread server([&] {
        auto s = acceptor.accept();
        char buf[4096];
        boost::system::error_code ec;
        s.read_some(net::buffer(buf), ec);
        static constexpr std::string_view kSwitched =
            "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n";
        net::write(s, net::buffer(kSwitched.data(), kSwitched.size()), ec);
        s.read_some(net::buffer(buf), ec);  // until the client closes it
    });
    net::io_context io;
    HttpClient client(io);
    ClientRequest req;
    req.port = port;
    req.target = "/ws";
    auto res = runOn(io, client.request(req));
    EXPECT_EQ(res.status, 101);
    EXPECT_FALSE(res.keep_alive);
    EXPECT_EQ(client.idleConnections("127.0.0.1", port), 0u);
    client.closeIdle();
    server.join();
}

TEST(HttpClient, RefusedConnectionIsAConnectError) {
    std::uint16_t dead_port;
    {
        ServerThread s(testRouter());
        dead_port = s.port();
    }
    net::io_context io;
    HttpClient client(io);
    ClientRequest req;
    req.port = dead_port;
    try {
        runOn(io, client.request(req));
        FAIL();
    } catch (const HttpClientError& e) {
        EXPECT_EQ(e.kind(), HttpClientError::Kind::Connect) << e.what();
    }
}

TEST(HttpClient, RetriesAnIdempotentRequestWhenAPooledConnectionWentStale) {
    net::io_context io;
    HttpClient client(io);
    std::uint16_t port;
    ServerOptions o;
    o.idle_timeout = std::chrono::milliseconds(100);
    ServerThread s(testRouter(), o);
    port = s.port();
    auto first = runOn(io, [&]() -> Task<int> {
        ClientRequest req;
        req.port = port;
        req.target = "/echo/a";
        co_return (co_await client.request(req)).status;
    }());
    EXPECT_EQ(first, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // server closes the idle one
    auto second = runOn(io, [&]() -> Task<std::string> {
        ClientRequest req;
        req.port = port;
        req.target = "/echo/b";
        co_return (co_await client.request(req)).body;
    }());
    EXPECT_EQ(second, "b");
    EXPECT_EQ(client.connectionsOpened(), 2u);
}

// A POST is never sent twice, so it must not meet a pooled connection the server has closed:
// the client checks the connection before sending it, and opens a fresh one.
TEST(HttpClient, APostSkipsAPooledConnectionTheServerClosed) {
    net::io_context io;
    HttpClient client(io);
    ServerOptions o;
    o.idle_timeout = std::chrono::milliseconds(100);
    ServerThread s(testRouter(), o);
    auto port = s.port();
    auto post = [&](std::string body) -> Task<std::string> {
        ClientRequest req;
        req.port = port;
        req.method = Method::Post;
        req.target = "/body";
        req.body = std::move(body);
        auto res = co_await client.request(req);
        co_return std::to_string(res.status) + ":" + res.body;
    };
    EXPECT_EQ(runOn(io, post("one")), "200:got 3");
    EXPECT_EQ(client.idleConnections("127.0.0.1", port), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // server closes the idle one
    EXPECT_EQ(runOn(io, post("two")), "200:got 3");
    EXPECT_EQ(client.connectionsOpened(), 2u);
}

// Every task started in one turn of the loop, their results in order.
template <class T>
std::vector<T> runAll(net::io_context& io, std::vector<Task<T>> tasks) {
    std::vector<std::future<T>> futures;
    futures.reserve(tasks.size());
    for (auto& t : tasks) {
        futures.push_back(net::co_spawn(io, std::move(t), net::use_future));
    }
    std::vector<T> out;
    for (auto& f : futures) {
        runUntilReady(io, f);
        out.push_back(f.get());
    }
    return out;
}

// A request's outcome as text: "status:body" or the kind of error.
Task<std::string> outcome(HttpClient& client, ClientRequest req) {
    try {
        auto res = co_await client.request(req);
        co_return std::to_string(res.status) + ":" + res.body;
    } catch (const HttpClientError& e) {
        co_return e.kind() == HttpClientError::Kind::Timeout ? std::string("timeout")
                                                             : std::string("error");
    }
}

ClientRequest pipelined(std::uint16_t port, std::string target) {
    ClientRequest req;
    req.port = port;
    req.target = std::move(target);
    req.pipeline = true;
    return req;
}

// What each pipelining test starts from: a server, a client on a loop of its own, and (after
// warm()) one pooled connection to the server.
struct Pipelining {
    explicit Pipelining(ClientOptions o = {}, MetricsRegistry* m = nullptr)
        : client(io, std::move(o), m), port(server.port()) {}
    void warm() {
        EXPECT_EQ(runOn(io, outcome(client, pipelined(port, "/echo/warm"))), "200:warm");
    }
    ServerThread server{testRouter()};
    net::io_context io;
    HttpClient client;
    std::uint16_t port;
};

// Requests made in one turn of the loop go out together on the one pooled connection and each
// gets its own answer, in order, a slow first answer included; HEAD answers carry no body.
TEST(HttpClient, PipelinedRequestsOfOneTurnShareAConnectionAndGetTheirOwnAnswers) {
    MetricsRegistry metrics;
    Pipelining t({}, &metrics);
    auto& [server, io, client, port] = t;
    t.warm();
    std::vector<Task<std::string>> tasks;
    tasks.push_back(outcome(client, pipelined(port, "/sleep/150")));
    for (int i = 0; i < 9; ++i) {
        tasks.push_back(outcome(client, pipelined(port, "/echo/" + std::to_string(i))));
    }
    auto head = pipelined(port, "/echo/headless");
    head.method = Method::Head;
    tasks.push_back(outcome(client, head));
    auto results = runAll(io, std::move(tasks));
    ASSERT_EQ(results.size(), 11u);
    EXPECT_EQ(results[0], "200:slept 150");
    for (int i = 0; i < 9; ++i) {
        EXPECT_EQ(results[static_cast<std::size_t>(i) + 1], "200:" + std::to_string(i));
    }
    EXPECT_EQ(results[10], "200:");
    EXPECT_EQ(client.connectionsOpened(), 1u);
    EXPECT_EQ(client.idleConnections("127.0.0.1", port), 1u);
    auto text = metrics.render();
    EXPECT_NE(text.find("restinu_http_client_pipelined_requests_total{client=\"default\"} 11"),
              std::string::npos)
        << text;
}

// At most pipeline_depth requests share a batch: the rest start another.
TEST(HttpClient, ABatchHoldsAtMostPipelineDepthRequests) {
    ClientOptions o;
    o.pipeline_depth = 4;
    Pipelining t(o);
    auto& [server, io, client, port] = t;
    std::vector<Task<std::string>> warm;
    warm.reserve(2);
    for (int i = 0; i < 2; ++i) {
        warm.push_back(outcome(client, pipelined(port, "/sleep/20")));  // two pooled connections
    }
    runAll(io, std::move(warm));
    ASSERT_EQ(client.idleConnections("127.0.0.1", port), 2u);
    std::vector<Task<std::string>> tasks;
    tasks.reserve(8);
    for (int i = 0; i < 8; ++i) {
        tasks.push_back(outcome(client, pipelined(port, "/echo/" + std::to_string(i))));
    }
    auto results = runAll(io, std::move(tasks));
    for (int i = 0; i < 8; ++i) {
        EXPECT_EQ(results[static_cast<std::size_t>(i)], "200:" + std::to_string(i));
    }
    EXPECT_EQ(client.connectionsOpened(), 2u);  // two batches of four, one per pooled connection
}

// A pipelined request keeps its own deadline. When it passes, the connection is given up, and
// the requests behind it, which had no byte of their answers yet, go again on a fresh one.
TEST(HttpClient, APipelinedRequestPastItsDeadlineTimesOutAndTheOnesBehindItAreRetried) {
    Pipelining t;
    auto& [server, io, client, port] = t;
    t.warm();
    auto slow = pipelined(port, "/sleep/2000");
    slow.timeout = std::chrono::milliseconds(200);
    std::vector<Task<std::string>> tasks;
    tasks.push_back(outcome(client, slow));
    tasks.push_back(outcome(client, pipelined(port, "/echo/a")));
    tasks.push_back(outcome(client, pipelined(port, "/echo/b")));
    auto started = std::chrono::steady_clock::now();
    auto results = runAll(io, std::move(tasks));
    EXPECT_EQ(results, (std::vector<std::string>{"timeout", "200:a", "200:b"}));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
    EXPECT_GE(client.connectionsOpened(), 2u);
}

// A request queued behind a slow one keeps its own, earlier deadline: it times out then, while
// the slow one is still being answered, and is not sent again.
TEST(HttpClient, APipelinedRequestBehindASlowOneTimesOutAtItsOwnDeadline) {
    Pipelining t;
    auto& [server, io, client, port] = t;
    t.warm();
    auto slow = pipelined(port, "/sleep/600");
    auto quick = pipelined(port, "/echo/quick");
    quick.timeout = std::chrono::milliseconds(100);
    auto started = std::chrono::steady_clock::now();
    auto timed = [&](ClientRequest req) -> Task<std::string> {
        auto result = co_await outcome(t.client, std::move(req));
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
        co_return result + (ms < 400 ? " early" : " late");
    };
    std::vector<Task<std::string>> tasks;
    tasks.push_back(timed(slow));
    tasks.push_back(timed(quick));
    auto results = runAll(io, std::move(tasks));
    EXPECT_EQ(results, (std::vector<std::string>{"200:slept 600 late", "timeout early"}));
    EXPECT_EQ(client.connectionsOpened(), 1u);
}

// A server that answers the first request of a batch and closes: the others had no answer
// begun, so they are sent again, each on a connection of its own.
TEST(HttpClient, WhenTheServerClosesMidBatchTheUnansweredRequestsAreSentAgain) {
    net::io_context server_io;
    net::ip::tcp::acceptor acceptor(server_io, {net::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    std::atomic<int> requests_seen{0};
    // A connection within five seconds, or none (the test then fails instead of hanging).
    auto accept_within = [&]() -> std::optional<net::ip::tcp::socket> {
        pollfd p{acceptor.native_handle(), POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            return std::nullopt;
        }
        return acceptor.accept();
    };
    std::thread server([&] {
        char buf[8192];
        boost::system::error_code ec;
        // The first connection: one kept-alive answer, then the batch, of which it answers
        // only the first request before it closes.
        auto accepted = accept_within();
        if (!accepted) {
            return;
        }
        auto& first = *accepted;
        first.read_some(net::buffer(buf), ec);
        static constexpr std::string_view kWarm = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nW";
        net::write(first, net::buffer(kWarm.data(), kWarm.size()), ec);
        // The batch: three heads, each ending in an empty line (read until all are in).
        std::string batch;
        while (!ec && batch.size() < sizeof buf) {
            auto n = first.read_some(net::buffer(buf), ec);
            batch.append(buf, n);
            std::size_t heads = 0;
            for (auto at = batch.find("\r\n\r\n"); at != std::string::npos;
                 at = batch.find("\r\n\r\n", at + 4)) {
                ++heads;
            }
            requests_seen = static_cast<int>(heads);
            if (heads >= 3) {
                break;
            }
        }
        static constexpr std::string_view kOne =
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n1";
        net::write(first, net::buffer(kOne.data(), kOne.size()), ec);
        first.close();
        for (int i = 0; i < 2; ++i) {  // the two sent again
            auto again = accept_within();
            if (!again) {
                return;
            }
            again->read_some(net::buffer(buf), ec);
            static constexpr std::string_view kAgain =
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nR";
            net::write(*again, net::buffer(kAgain.data(), kAgain.size()), ec);
            again->close();
        }
    });
    net::io_context io;
    HttpClient client(io);
    EXPECT_EQ(runOn(io, outcome(client, pipelined(port, "/warm"))), "200:W");
    std::vector<Task<std::string>> tasks;
    for (const char* t : {"/a", "/b", "/c"}) {
        tasks.push_back(outcome(client, pipelined(port, t)));
    }
    auto results = runAll(io, std::move(tasks));
    server.join();
    EXPECT_EQ(requests_seen.load(), 3);  // the three went out together
    EXPECT_EQ(results, (std::vector<std::string>{"200:1", "200:R", "200:R"}));
    EXPECT_EQ(client.connectionsOpened(), 3u);
}

// Without a pooled connection at hand, a pipelined request takes the ordinary path.
TEST(HttpClient, APipelinedRequestWithNoPooledConnectionOpensOne) {
    Pipelining t;
    auto& [server, io, client, port] = t;
    std::vector<Task<std::string>> tasks;
    tasks.reserve(3);
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(outcome(client, pipelined(port, "/echo/" + std::to_string(i))));
    }
    auto results = runAll(io, std::move(tasks));
    EXPECT_EQ(results, (std::vector<std::string>{"200:0", "200:1", "200:2"}));
    EXPECT_EQ(client.connectionsOpened(), 3u);
}

}  // namespace
}  // namespace restinu::rt

namespace restinu::rt {
namespace {

// A stream of `n` events, one every 20 ms, then the end; or, with n = 0, one event and then
// silence until the client goes (counted in `ended`).
Router streamRouter(std::atomic<int>& ended) {
    Router r;
    r.get("/events/{n}", Access::none(), [&ended](Request& req) -> Task<Response> {
        const int n = std::stoi(std::string(req.param("n")));
        Response res{200, "text/event-stream", ""};
        res.stream = std::make_shared<StreamBody>([n, &ended](StreamWriter& out) -> Task<void> {
            auto ex = co_await net::this_coro::executor;
            net::steady_timer wake(ex, std::chrono::hours(1));
            out.on_close = [&wake] { wake.cancel(); };
            if (n == 0) {
                co_await out.write("data: hello\n\n");
                if (out.open()) {  // else on_close ran already: nothing would wake the timer
                    co_await wake.async_wait(net::as_tuple(net::use_awaitable));
                }
                ended += out.open() ? 0 : 1;
                co_return;
            }
            for (int i = 0; i < n; ++i) {
                co_await out.write("data: " + std::to_string(i) + "\n\n");
                co_await sleepFor(std::chrono::milliseconds(20));
            }
        });
        co_return res;
    });
    return r;
}

// Reads until `what` has come (or the receive timeout passes).
std::string readUntil(RawClient& c, std::string_view what) {
    std::string got;
    while (got.find(what) == std::string::npos) {
        auto more = c.readSome();
        if (more.empty()) {
            break;
        }
        got += more;
    }
    return got;
}

TEST(HttpServerStream, ChunksGoOutAsTheyAreWrittenAndTheStreamEndsWithTheLastChunk) {
    std::atomic<int> ended{0};
    ServerThread s(streamRouter(ended));
    RawClient c(s.port());
    ASSERT_TRUE(c.send(get("/events/3")));
    auto all = c.readAll();  // until the server closes
    EXPECT_TRUE(c.closedByPeer());
    EXPECT_EQ(all.substr(0, 15), "HTTP/1.1 200 OK") << all;
    EXPECT_NE(all.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << all;
    EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << all;
    EXPECT_EQ(all.find("Content-Length"), std::string::npos) << all;
    EXPECT_TRUE(
        all.ends_with("9\r\ndata: 0\n\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"))
        << all;
}

TEST(HttpServerStream, AClientThatLeavesEndsItsStreamAtOnce) {
    std::atomic<int> ended{0};
    ServerThread s(streamRouter(ended));
    {
        RawClient c(s.port());
        ASSERT_TRUE(c.send(get("/events/0")));
        auto first = readUntil(c, "data: hello");
        EXPECT_NE(first.find("data: hello"), std::string::npos) << first;
        EXPECT_EQ(s.server().connections(), 1u);
    }  // the client closes its socket
    for (int i = 0; i < 100 && ended.load() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(ended.load(), 1) << "the body was not told that the client left";
    for (int i = 0; i < 100 && s.server().connections() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(s.server().connections(), 0u);
}

TEST(HttpServerStream, ShutdownEndsOpenStreamsWithoutWaitingForTheGracePeriod) {
    std::atomic<int> ended{0};
    ServerThread s(streamRouter(ended));
    RawClient c(s.port());
    ASSERT_TRUE(c.send(get("/events/0")));
    EXPECT_NE(readUntil(c, "data: hello").find("data: hello"), std::string::npos);
    const auto started = std::chrono::steady_clock::now();
    s.stop();  // a 2 s grace period
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
    EXPECT_EQ(ended.load(), 1);
}

}  // namespace
}  // namespace restinu::rt
