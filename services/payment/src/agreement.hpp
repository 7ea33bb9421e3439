#pragma once

#include <cstdint>
#include <string>

/// The purchase agreement as a PDF (libharu): the parties, the property, the price in figures
/// (Indian digit grouping) and in words, and the date. CPU work: run it on the worker pool.
namespace restinu::payment {

struct AgreementFacts {
    std::string purchase_id;
    std::string buyer_id;
    std::string seller_id;
    std::string listing_id;
    std::string property_title;
    std::string property_address;
    std::int64_t price = 0;   ///< minor units
    std::int64_t charge = 0;  ///< what is paid now (the price, or a deposit)
    std::string currency;
    std::string date;  ///< YYYY-MM-DD
};

/// The PDF's bytes. Text outside Latin-1 is written with '?' (the standard fonts' limit).
std::string renderAgreement(const AgreementFacts& facts);

}  // namespace restinu::payment
