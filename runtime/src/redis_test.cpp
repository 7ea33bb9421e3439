#include "restinu/rt/redis.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace restinu::rt {
namespace {

using namespace std::string_literals;

std::vector<RedisReply> parseInPieces(std::string_view input, std::size_t piece) {
    RedisReplyParser parser;
    std::vector<RedisReply> out;
    for (std::size_t i = 0; i < input.size(); i += piece) {
        parser.feed(input.substr(i, piece));
        while (auto r = parser.next()) {
            out.push_back(std::move(*r));
        }
    }
    return out;
}

TEST(RedisScript, Sha1MatchesKnownVector) {
    // printf 'return 1' | sha1sum
    EXPECT_EQ(RedisScript("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    // sha1("") is the standard empty-input vector.
    EXPECT_EQ(RedisScript("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(RedisScript("return 1").source(), "return 1");
}

TEST(RedisCommand, EncodesBinarySafeBulkStrings) {
    std::string with_nul("a\0b", 3);
    EXPECT_EQ(formatRedisCommand({"SET", "k", with_nul}),
              "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n"s);
    EXPECT_EQ(formatRedisCommand({"GET", ""}), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
    EXPECT_THROW(formatRedisCommand({}), std::invalid_argument);
}

TEST(RedisReplyParser, ParsesEveryTypeFedOneByteAtATime) {
    const std::string input =
        "+OK\r\n"
        "-ERR wrong type\r\n"
        ":-42\r\n"
        "$5\r\nhe\r\no\r\n"  // a bulk string may contain CRLF
        "$-1\r\n"
        "*-1\r\n"
        "$0\r\n\r\n"
        "*3\r\n:1\r\n*2\r\n+a\r\n$-1\r\n$3\r\nxyz\r\n"
        "*0\r\n";
    for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{7}, input.size()}) {
        SCOPED_TRACE(piece);
        auto r = parseInPieces(input, piece);
        ASSERT_EQ(r.size(), 9u);
        EXPECT_EQ(r[0].type, RedisReply::Type::Status);
        EXPECT_EQ(r[0].str, "OK");
        EXPECT_TRUE(r[1].isError());
        EXPECT_EQ(r[1].str, "ERR wrong type");
        EXPECT_EQ(r[2].type, RedisReply::Type::Integer);
        EXPECT_EQ(r[2].integer, -42);
        EXPECT_EQ(r[3].type, RedisReply::Type::String);
        EXPECT_EQ(r[3].str, "he\r\no");
        EXPECT_TRUE(r[4].isNil());
        EXPECT_TRUE(r[5].isNil());
        EXPECT_EQ(r[6].type, RedisReply::Type::String);
        EXPECT_EQ(r[6].str, "");
        ASSERT_EQ(r[7].type, RedisReply::Type::Array);
        ASSERT_EQ(r[7].elements.size(), 3u);
        EXPECT_EQ(r[7].elements[0].integer, 1);
        ASSERT_EQ(r[7].elements[1].elements.size(), 2u);
        EXPECT_EQ(r[7].elements[1].elements[0].str, "a");
        EXPECT_TRUE(r[7].elements[1].elements[1].isNil());
        EXPECT_EQ(r[7].elements[2].str, "xyz");
        EXPECT_EQ(r[8].type, RedisReply::Type::Array);
        EXPECT_TRUE(r[8].elements.empty());
    }
}

TEST(RedisReplyParser, WaitsForTheRestOfAPartialReply) {
    RedisReplyParser parser;
    parser.feed("$10\r\n01234");
    EXPECT_FALSE(parser.next().has_value());
    parser.feed("56789\r");
    EXPECT_FALSE(parser.next().has_value());
    parser.feed("\n:7\r\n");
    auto first = parser.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->str, "0123456789");
    auto second = parser.next();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->integer, 7);
    EXPECT_FALSE(parser.next().has_value());
}

TEST(RedisReplyParser, RejectsBytesThatAreNotResp) {
    RedisReplyParser parser;
    parser.feed("HTTP/1.1 400 Bad Request\r\n");
    try {
        (void)parser.next();
        FAIL() << "expected a protocol error";
    } catch (const RedisError& e) {
        EXPECT_EQ(e.kind(), RedisError::Kind::Protocol);
    }
}

}  // namespace
}  // namespace restinu::rt
