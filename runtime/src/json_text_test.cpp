#include "restinu/rt/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>

namespace restinu::rt {
namespace {

std::string escaped(std::string_view text) {
    std::string out = "prefix:";
    appendJsonEscaped(out, text);
    return out;
}

TEST(JsonText, JsonEscapingAppendsPlainRunsAndEscapesTheRest) {
    EXPECT_EQ(escaped(""), "prefix:");
    EXPECT_EQ(escaped("plain text, no escapes"), "prefix:plain text, no escapes");
    EXPECT_EQ(escaped("a\"b\\c"), "prefix:a\\\"b\\\\c");
    EXPECT_EQ(escaped("\"at both ends\""), "prefix:\\\"at both ends\\\"");
    EXPECT_EQ(escaped("line\nfeed\r\ttab"), "prefix:line\\nfeed\\r\\ttab");
    EXPECT_EQ(escaped(std::string_view("\x00\x1f\x7f", 3)), "prefix:\\u0000\\u001f\x7f");
    EXPECT_EQ(escaped("caf\xc3\xa9"), "prefix:caf\xc3\xa9");  // UTF-8 passes through
}

TEST(JsonText, EveryByteBelowASpaceRoundTripsThroughAJsonParser) {
    std::string all;
    for (int c = 0; c < 128; ++c) {
        all += static_cast<char>(c);
    }
    std::string doc = "\"";
    appendJsonEscaped(doc, all);
    doc += '"';
    EXPECT_EQ(boost::json::parse(doc).as_string(), all);
}

// The escaper looks at eight bytes per step; a byte-at-a-time reference says what it must give
// for every byte value at every place in texts of every length up to two words and a bit.
TEST(JsonText, JsonEscapingMatchesAByteAtATimeReferenceEverywhere) {
    auto reference = [](std::string_view text) {
        std::string out = "prefix:";
        for (char ch : text) {
            auto u = static_cast<unsigned char>(ch);
            if (u == '"' || u == '\\') {
                out += '\\';
                out += ch;
            } else if (u == '\n') {
                out += "\\n";
            } else if (u == '\r') {
                out += "\\r";
            } else if (u == '\t') {
                out += "\\t";
            } else if (u < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += ch;
            }
        }
        return out;
    };
    for (std::size_t len = 1; len <= 19; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (int b = 0; b < 256; ++b) {
                std::string text(len, 'x');
                text[at] = static_cast<char>(b);
                ASSERT_EQ(escaped(text), reference(text)) << "byte " << b << " at " << at;
            }
        }
    }
}

TEST(JsonText, StringsNumbersAndFieldsMakeADocumentAParserReadsBack) {
    std::string doc = "{";
    appendJsonField(doc, "title");
    appendJsonString(doc, "a \"quoted\" title");
    appendJsonField(doc, "price");
    appendJsonNumber(doc, "1850000000");
    appendJsonField(doc, "lat");
    appendJsonNumber(doc, "-19.5e1");
    appendJsonField(doc, "bad");
    appendJsonNumber(doc, "NaN");
    appendJsonField(doc, "none");
    appendJsonNumber(doc, "");
    doc += '}';
    auto v = boost::json::parse(doc).as_object();
    EXPECT_EQ(v.at("title").as_string(), "a \"quoted\" title");
    EXPECT_EQ(v.at("price").as_int64(), 1850000000);
    EXPECT_DOUBLE_EQ(v.at("lat").as_double(), -195.0);
    EXPECT_TRUE(v.at("bad").is_null());
    EXPECT_TRUE(v.at("none").is_null());
}

}  // namespace
}  // namespace restinu::rt
