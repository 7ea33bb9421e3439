#include "restinu/rt/pg.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace restinu::rt {
namespace {

std::optional<std::string> sent(const PgParam& p) {
    if (p.isNull()) {
        return std::nullopt;
    }
    return p.text();
}

TEST(PgParam, StringsAreSentVerbatim) {
    EXPECT_EQ(sent(std::string("it's; DROP TABLE x")), "it's; DROP TABLE x");
    EXPECT_EQ(sent(std::string_view("view")), "view");
    EXPECT_EQ(sent("literal"), "literal");
    EXPECT_EQ(sent(std::string()), "");
    EXPECT_EQ(sent('x'), "x");
}

TEST(PgParam, IntegersUseDecimalText) {
    EXPECT_EQ(sent(42), "42");
    EXPECT_EQ(sent(-7), "-7");
    EXPECT_EQ(sent(std::int64_t{9'000'000'000}), "9000000000");
    EXPECT_EQ(sent(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
    EXPECT_EQ(sent(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
    EXPECT_EQ(sent(std::int16_t{-3}), "-3");
    EXPECT_EQ(sent(std::uint8_t{200}), "200");
    EXPECT_EQ(sent(std::size_t{5}), "5");
}

TEST(PgParam, BoolIsTrueOrFalse) {
    EXPECT_EQ(sent(true), "true");
    EXPECT_EQ(sent(false), "false");
}

TEST(PgParam, DoubleRoundTripsAndSpellsSpecialValues) {
    EXPECT_EQ(sent(1.5), "1.5");
    EXPECT_EQ(sent(0.1), "0.1");
    EXPECT_EQ(std::stod(*sent(1.0 / 3)), 1.0 / 3);
    EXPECT_EQ(sent(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(sent(std::numeric_limits<double>::infinity()), "Infinity");
    EXPECT_EQ(sent(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(PgParam, NulloptAndEmptyOptionalAreNull) {
    PgParam p = std::nullopt;
    EXPECT_TRUE(p.isNull());
    EXPECT_EQ(p.cStr(), nullptr);
    EXPECT_TRUE(PgParam(std::optional<int>{}).isNull());
    EXPECT_TRUE(PgParam(std::optional<std::string>{}).isNull());
    EXPECT_TRUE(PgParam(static_cast<const char*>(nullptr)).isNull());
}

TEST(PgParam, FilledOptionalUsesTheValueConversion) {
    EXPECT_EQ(sent(std::optional<int>{12}), "12");
    EXPECT_EQ(sent(std::optional<bool>{true}), "true");
    EXPECT_EQ(sent(std::optional<std::string>{"abc"}), "abc");
    EXPECT_EQ(sent(std::optional<std::string_view>{"sv"}), "sv");
}

TEST(PgParam, MixedListBuildsImplicitly) {
    std::optional<std::int64_t> none;
    std::vector<PgParam> params{1, "two", std::string("three"), true, 2.5, std::nullopt, none};
    ASSERT_EQ(params.size(), 7u);
    EXPECT_STREQ(params[0].cStr(), "1");
    EXPECT_STREQ(params[1].cStr(), "two");
    EXPECT_STREQ(params[2].cStr(), "three");
    EXPECT_STREQ(params[3].cStr(), "true");
    EXPECT_STREQ(params[4].cStr(), "2.5");
    EXPECT_EQ(params[5].cStr(), nullptr);
    EXPECT_EQ(params[6].cStr(), nullptr);
}

TEST(PgError, CarriesKindAndSqlstate) {
    PgError e(PgError::Kind::Query, "bad input", "22P02");
    EXPECT_EQ(e.kind(), PgError::Kind::Query);
    EXPECT_EQ(e.sqlstate(), "22P02");
    EXPECT_STREQ(e.what(), "bad input");
    EXPECT_EQ(PgError(PgError::Kind::Timeout, "t").sqlstate(), "");
}

TEST(PgResult, EmptyResultHasNoRowsAndRejectsAccess) {
    PgResult r;
    EXPECT_EQ(r.rows(), 0u);
    EXPECT_EQ(r.columns(), 0);
    EXPECT_EQ(r.column("id"), -1);
    EXPECT_EQ(r.affected(), 0u);
    EXPECT_EQ(r.status(), "");
    EXPECT_THROW((void)r.get(0, 0), std::out_of_range);
    EXPECT_THROW((void)r.isNull(0, 0), std::out_of_range);
}

TEST(PgConn, EmptyLeaseIsFalseAndReleaseIsHarmless) {
    PgConn c;
    EXPECT_FALSE(c);
    c.release();
    EXPECT_EQ(c.preparedCount(), 0u);
    EXPECT_EQ(c.backendPid(), 0);
}

}  // namespace
}  // namespace restinu::rt
