#include "whole_message.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "lean_parser.hpp"

namespace restinu::rt::detail {
namespace {

using namespace std::string_literals;

// What a parser made of a message, in a form two parsers' results can be compared in.
struct Parsed {
    std::size_t used = 0;
    bool keep_alive = false;
    std::string method, target;
    int status = 0;
    int version = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;

    bool operator==(const Parsed&) const = default;
};

Parsed collect(const LeanMessage& m, std::size_t used, bool keep_alive, bool request) {
    Parsed p;
    p.used = used;
    p.keep_alive = keep_alive;
    if (request) {
        p.method = std::string(m.view(m.method));
        p.target = std::string(m.view(m.target));
    }
    p.status = m.status;
    p.version = m.version;
    for (std::size_t i = 0; i < m.fields.size(); ++i) {
        p.fields.emplace_back(m.name(i), m.value(i));
    }
    p.body = m.body;
    return p;
}

constexpr std::size_t kHeaderLimit = 1024;
constexpr std::uint64_t kBodyLimit = 64;

// Beast's verdict: the message complete and accepted, or nothing.
template <bool IsRequest>
std::optional<Parsed> byBeast(const std::string& in, bool head_request = false) {
    LeanMessage m;
    LeanParser<IsRequest> parser(m);
    parser.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
    parser.body_limit(kBodyLimit);
    parser.eager(true);
    if (head_request) {
        parser.skip(true);
    }
    boost::system::error_code ec;
    auto used = parser.put(boost::asio::const_buffer(in.data(), in.size()), ec);
    if (ec || !parser.is_done()) {
        return std::nullopt;
    }
    return collect(m, used, parser.keep_alive(), IsRequest);
}

std::optional<Parsed> fastRequest(const std::string& in) {
    LeanMessage m;
    auto w = parseWholeRequest(in, kHeaderLimit, kBodyLimit, m);
    if (w.used == 0) {
        return std::nullopt;
    }
    return collect(m, w.used, w.keep_alive, true);
}

std::optional<Parsed> fastResponse(const std::string& in, bool head_request = false) {
    LeanMessage m;
    auto w = parseWholeResponse(in, kHeaderLimit, kBodyLimit, head_request, m);
    if (w.used == 0) {
        return std::nullopt;
    }
    return collect(m, w.used, w.keep_alive, false);
}

// The rule: whatever the fast parser takes, Beast takes too, and reads the same way.
void expectAgrees(const std::string& in, bool request, bool head_request = false) {
    auto fast = request ? fastRequest(in) : fastResponse(in, head_request);
    if (!fast) {
        return;
    }
    auto beast = request ? byBeast<true>(in) : byBeast<false>(in, head_request);
    ASSERT_TRUE(beast.has_value()) << "taken by the fast parser, refused by Beast: " << in;
    EXPECT_EQ(*fast, *beast) << in;
}

const std::vector<std::string> kPlainRequests = {
    "GET /api/v1/properties/1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer "
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl\r\n\r\n",
    "GET /healthz HTTP/1.0\r\n\r\n",
    "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "GET /x?q=sea+view&city=Pune HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "POST /api/v1/auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
    "Content-Length: 11\r\n\r\n{\"a\":\"b c\"}",
    "PATCH /p/1 HTTP/1.1\r\ncontent-length: 0\r\nX-Empty:\r\nX-Spaces:   \t \r\n\r\n",
    "DELETE /p/1 HTTP/1.1\r\nX-Trim:  padded value \t\r\nX-Tab:\ta\tb\r\n\r\n",
    "GET / HTTP/1.1\r\nConnection: Keep-Alive , TE\r\nTE: trailers\r\n\r\n",
    "GET / HTTP/1.1\r\nProxy-Connection: close\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n\r\n",  // pipelined: one at a time
    "GET / HTTP/1.1\r\ncOnNeCtIoN: CLOSE\r\n\r\n",
    "GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
    "POST / HTTP/1.1\r\nCONTENT-LENGTH: 2\r\n\r\nok",
};

const std::vector<std::string> kPlainResponses = {
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\nX-Request-Id: "
    "85c3c41edb49b6ebf0a95f42a2cbe760\r\nContent-Length: 13\r\n\r\n{\"status\":44}",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 304 \r\nETag: \"x\"\r\n\r\n",
    "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    "HTTP/1.1 201 Created\r\nLocation: /p/1\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nabcde",  // no body, whatever it says
};

// Each of `seeds` is taken by the fast parser and read as Beast reads it.
void expectAllTakenAlike(const std::vector<std::string>& seeds, bool request) {
    for (const auto& in : seeds) {
        auto fast = request ? fastRequest(in) : fastResponse(in);
        ASSERT_TRUE(fast.has_value()) << "plain message not taken: " << in;
        auto beast = request ? byBeast<true>(in) : byBeast<false>(in);
        ASSERT_TRUE(beast.has_value()) << in;
        EXPECT_EQ(*fast, *beast) << in;
    }
}

TEST(WholeMessage, TakesPlainRequestsAsBeastReadsThem) {
    expectAllTakenAlike(kPlainRequests, true);
    auto first = fastRequest(kPlainRequests.front());
    EXPECT_EQ(first->method, "GET");
    EXPECT_EQ(first->target, "/api/v1/properties/1");
    EXPECT_EQ(first->fields.size(), 2U);
    EXPECT_TRUE(first->keep_alive);
    EXPECT_FALSE(fastRequest("GET / HTTP/1.0\r\n\r\n")->keep_alive);
    EXPECT_FALSE(fastRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")->keep_alive);
    // Pipelined: one request at a time, the next one left in the buffer.
    std::string two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
    auto one = fastRequest(two);
    EXPECT_EQ(one->target, "/a");
    EXPECT_EQ(two.substr(one->used), "GET /b HTTP/1.1\r\n\r\n");
    EXPECT_FALSE(
        fastRequest("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n")->keep_alive);
    EXPECT_TRUE(fastRequest("GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n")->keep_alive);
}

TEST(WholeMessage, TakesPlainResponsesAsBeastReadsThem) {
    expectAllTakenAlike(kPlainResponses, false);
    // The answer to a HEAD has no body, whatever its Content-Length says.
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    auto fast = fastResponse(head, true);
    ASSERT_TRUE(fast.has_value());
    EXPECT_EQ(fast->used, head.size());
    EXPECT_EQ(fast, byBeast<false>(head, true));
}

// Messages the fast parser must leave to Beast: each is framed or formed in a way it does not
// handle, several are request-smuggling vectors. Beast then accepts or refuses them itself.
TEST(WholeMessage, LeavesEverythingUnusualToBeast) {
    const std::vector<std::string> requests = {
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab",  // body not here yet
        "POST / HTTP/1.1\r\nContent-Length: 64\r\n\r\n" + std::string(64, 'x'),  // at the limit
        "GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",                           // obs-fold
        "GET / HTTP/1.1\nHost: a\n\n",                                           // bare LF
        "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",  // space before colon
        "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"s,  // NUL in a value
        "GET / HTTP/1.1\r\nX: a\x7F\r\n\r\n",
        "GET / HTTP/1.1\r\nX: caf\xC3\xA9\r\nUpgrade: websocket\r\n\r\n",  // Upgrade
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET /\xC3\xA9 HTTP/1.1\r\n\r\n",  // obs-text target
        "GET / HTTP/1.1\r\nConnection: ,close\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: \"close\"\r\n\r\n",
        "\r\nGET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n",  // head not over
        "GET / HTTP/1.1\r\nX: " + std::string(kHeaderLimit, 'a') + "\r\n\r\n",
        "POST / HTTP/1.1\r\nTRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nupgrade: x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 63\r\n\r\n" + std::string(62, 'x'),
    };
    for (const auto& in : requests) {
        EXPECT_FALSE(fastRequest(in).has_value()) << in;
    }
    const std::vector<std::string> responses = {
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\nuntil the end",  // to end of connection
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",  // no SP after status
        "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: " + std::string(kHeaderLimit, 'a') + "\r\nContent-Length: 0\r\n\r\n",
    };
    for (const auto& in : responses) {
        EXPECT_FALSE(fastResponse(in).has_value()) << in;
    }
}

// Every byte value at every place in values of every length up to two eight-byte words and a
// bit (the eight-at-a-time scan and its byte-wise tail): the fast parser takes exactly the
// values Beast allows (HTAB, SP to '~', obs-text) and reads them as Beast does.
TEST(WholeMessage, TakesExactlyTheValueBytesBeastAllows) {
    for (std::size_t len = 1; len <= 19; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (int b = 0; b < 256; ++b) {
                std::string value(len, 'v');
                value[at] = static_cast<char>(b);
                std::string in = "GET / HTTP/1.1\r\nX: " + value + "\r\nHost: a\r\n\r\n";
                bool allowed = b == '\t' || (b >= 0x20 && b != 0x7F);
                EXPECT_EQ(fastRequest(in).has_value(), allowed) << "byte " << b << " at " << at;
                expectAgrees(in, true);
                if (HasFailure()) {
                    return;
                }
            }
        }
    }
}

// Heads around the header limit: whatever the fast parser takes there, Beast takes too.
TEST(WholeMessage, AgreesWithBeastAtTheHeaderLimit) {
    for (std::size_t size = kHeaderLimit - 3; size <= kHeaderLimit + 3; ++size) {
        std::string request = "GET / HTTP/1.1\r\nX: \r\n\r\n";
        request.insert(19, size - request.size(), 'a');
        ASSERT_EQ(request.size(), size);
        expectAgrees(request, true);
        std::string response = "HTTP/1.1 204 No Content\r\nX: \r\n\r\n";
        response.insert(28, size - response.size(), 'a');
        ASSERT_EQ(response.size(), size);
        expectAgrees(response, false);
    }
    std::string over = "GET / HTTP/1.1\r\nX: \r\n\r\n";
    over.insert(19, kHeaderLimit + 1 - over.size(), 'a');
    EXPECT_FALSE(fastRequest(over).has_value());
}

TEST(WholeMessage, ATruncatedMessageIsNeverTaken) {
    for (const auto& in : kPlainRequests) {
        auto whole = fastRequest(in);
        ASSERT_TRUE(whole.has_value());
        for (std::size_t n = 0; n < whole->used; ++n) {
            EXPECT_FALSE(fastRequest(in.substr(0, n)).has_value()) << n << ": " << in;
        }
    }
    for (const auto& in : kPlainResponses) {
        auto whole = fastResponse(in);
        ASSERT_TRUE(whole.has_value());
        for (std::size_t n = 0; n < whole->used; ++n) {
            EXPECT_FALSE(fastResponse(in.substr(0, n)).has_value()) << n << ": " << in;
        }
    }
}

// Differential fuzzing: plain messages with bytes changed, inserted and removed (biased towards
// the bytes HTTP framing turns on). Whatever the fast parser takes, Beast must take and read
// the same way. The seed is fixed, so a failure repeats.
TEST(WholeMessage, AgreesWithBeastOnMutatedMessages) {
    std::mt19937 rng(20261126);
    const std::string interesting =
        std::string("\r\n \t:,;\"\x7F\x80\xFF\x01\0", 13) + "0123456789Aa-";
    auto mutate = [&](std::string s) {
        std::uniform_int_distribution<int> edits(1, 4);
        for (int e = edits(rng); e > 0 && !s.empty(); --e) {
            std::uniform_int_distribution<std::size_t> at(0, s.size() - 1);
            std::uniform_int_distribution<std::size_t> pick(0, interesting.size() - 1);
            std::size_t i = at(rng);
            switch (rng() % 3) {
                case 0:
                    s[i] = interesting[pick(rng)];
                    break;
                case 1:
                    s.insert(s.begin() + static_cast<std::ptrdiff_t>(i), interesting[pick(rng)]);
                    break;
                default:
                    s.erase(i, 1);
                    break;
            }
        }
        return s;
    };
    int taken = 0;
    for (int round = 0; round < 20000; ++round) {
        bool request = round % 2 == 0;
        const auto& seeds = request ? kPlainRequests : kPlainResponses;
        auto in = mutate(seeds[static_cast<std::size_t>(round / 2) % seeds.size()]);
        expectAgrees(in, request);
        if (!request) {
            expectAgrees(in, request, true);
        }
        if ((request ? fastRequest(in) : fastResponse(in)).has_value()) {
            ++taken;
        }
        if (HasFailure()) {
            return;
        }
    }
    // Many mutants stay plain (a changed letter in a value): the comparison was exercised.
    EXPECT_GT(taken, 2000);
}

}  // namespace
}  // namespace restinu::rt::detail
