#include "agreement.hpp"

#include <gtest/gtest.h>

namespace restinu::payment {
namespace {

TEST(Agreement, RendersAPdfWhateverTheTextHolds) {
    AgreementFacts f{"p-1",
                     "b-1",
                     "s-1",
                     "l-1",
                     "3 BHK – Koramangala ₹ (Bengaluru)",
                     "4 Park Street, Bengaluru",
                     850'000'050,
                     85'000'005,
                     "INR",
                     "2026-12-06"};
    const auto pdf = renderAgreement(f);
    ASSERT_GT(pdf.size(), 500U);
    EXPECT_EQ(pdf.substr(0, 5), "%PDF-");
    EXPECT_NE(pdf.find("%%EOF"), std::string::npos);
    // A long title wraps over lines; a word longer than a line still renders.
    f.property_title = std::string(2'000, 'x') + " " + std::string(300, 'y');
    EXPECT_EQ(renderAgreement(f).substr(0, 5), "%PDF-");
}

}  // namespace
}  // namespace restinu::payment
