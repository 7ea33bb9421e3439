#include "restinu/rt/log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace restinu::rt {
namespace {

std::string escaped(std::string_view text) {
    std::string out = "prefix:";
    log::appendJsonEscaped(out, text);
    return out;
}

TEST(Log, JsonEscapingAppendsPlainRunsAndEscapesTheRest) {
    EXPECT_EQ(escaped(""), "prefix:");
    EXPECT_EQ(escaped("plain text, no escapes"), "prefix:plain text, no escapes");
    EXPECT_EQ(escaped("a\"b\\c"), "prefix:a\\\"b\\\\c");
    EXPECT_EQ(escaped("\"at both ends\""), "prefix:\\\"at both ends\\\"");
    EXPECT_EQ(escaped("line\nfeed\r\ttab"), "prefix:line\\nfeed\\r\\ttab");
    EXPECT_EQ(escaped(std::string_view("\x00\x1f\x7f", 3)), "prefix:\\u0000\\u001f\x7f");
    EXPECT_EQ(escaped("caf\xc3\xa9"), "prefix:caf\xc3\xa9");  // UTF-8 passes through
}

TEST(Log, EveryByteBelowASpaceRoundTripsThroughAJsonParser) {
    std::string all;
    for (int c = 0; c < 128; ++c) {
        all += static_cast<char>(c);
    }
    std::string doc = "\"";
    log::appendJsonEscaped(doc, all);
    doc += '"';
    EXPECT_EQ(boost::json::parse(doc).as_string(), all);
}

}  // namespace
}  // namespace restinu::rt
