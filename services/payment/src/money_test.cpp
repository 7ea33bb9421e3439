#include "money.hpp"

#include <gtest/gtest.h>

namespace restinu::payment::money {
namespace {

TEST(Money, IndianGroupingPutsCommasAfterThreeThenEveryTwoDigits) {
    EXPECT_EQ(indianFigures(0, "INR"), "0.00");
    EXPECT_EQ(indianFigures(99'999, "INR"), "999.99");
    EXPECT_EQ(indianFigures(100'000, "INR"), "1,000.00");
    EXPECT_EQ(indianFigures(125'000'050, "INR"), "12,50,000.50");
    EXPECT_EQ(indianFigures(12'345'678'900, "INR"), "12,34,56,789.00");
    EXPECT_EQ(indianFigures(1'000'000'000'000, "INR"), "10,00,00,00,000.00");
    EXPECT_EQ(indianFigures(1'234'567, "JPY"), "12,34,567");
    EXPECT_EQ(indianFigures(-5, "INR"), "-0.05");
}

TEST(Money, WordsUseLakhAndCrore) {
    EXPECT_EQ(amountInWords(125'000'050, "INR"),
              "Twelve Lakh Fifty Thousand Rupees and Fifty Paise Only");
    EXPECT_EQ(amountInWords(850'000'000, "INR"), "Eighty Five Lakh Rupees Only");
    EXPECT_EQ(amountInWords(12'345'678'900, "INR"),
              "Twelve Crore Thirty Four Lakh Fifty Six Thousand Seven Hundred Eighty Nine "
              "Rupees Only");
    EXPECT_EQ(amountInWords(100'000'000'000'000, "INR"), "One Lakh Crore Rupees Only");
    EXPECT_EQ(amountInWords(1'100, "USD"), "Eleven Dollars Only");
    EXPECT_EQ(amountInWords(7, "INR"), "Seven Paise Only");
    EXPECT_EQ(amountInWords(0, "INR"), "Zero Rupees Only");
    EXPECT_THROW(amountInWords(-1, "INR"), std::invalid_argument);
}

TEST(Money, FeesRoundDownAndRefundSharesNeverExceedTheFee) {
    EXPECT_EQ(feeOf(1'000'000, 100), 10'000);
    EXPECT_EQ(feeOf(999, 100), 9);
    // 9e18 × 250 overflows 64 bits; the fee is still exact.
    EXPECT_EQ(feeOf(9'000'000'000'000'000'000, 250), 225'000'000'000'000'000);
    // Three partial refunds of a capture return at most the fee it took.
    const std::int64_t captured = 1'000'001;
    const std::int64_t fee = feeOf(captured, 100);
    std::int64_t back = 0;
    for (std::int64_t r : {333'333, 333'333, 333'335}) {
        back += feeShare(fee, r, captured);
    }
    EXPECT_LE(back, fee);
    EXPECT_GE(back, fee - 3);
    EXPECT_EQ(feeShare(fee, captured, captured), fee);
    EXPECT_EQ(feeShare(fee, 10, 0), 0);
}

}  // namespace
}  // namespace restinu::payment::money
