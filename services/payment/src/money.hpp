#pragma once

#include <cstdint>
#include <string>
#include <string_view>

/// Money as the payment service handles it: integer minor units and an ISO 4217 code, and the
/// ways a purchase agreement writes an amount. Pure code, no I/O, no floating point.
namespace restinu::payment::money {

/// Minor units per major unit of `currency` (100 for INR, USD, EUR...; 1 for JPY, KRW).
std::int64_t minorPerMajor(std::string_view currency);

/// Digits grouped the Indian way (last three, then pairs): 125000050 → "12,50,000.50" for
/// a currency with 100 minor units ("1,25,00,00,050" with none).
std::string indianFigures(std::int64_t minor, std::string_view currency);

/// The whole major units in words with Indian scales (thousand, lakh, crore), then the
/// minor units: 125000050 INR → "Twelve Lakh Fifty Thousand Rupees and Fifty Paise Only".
std::string amountInWords(std::int64_t minor, std::string_view currency);

/// The platform's fee on `amount`: floor(amount × bps / 10,000), exact in 128 bits.
std::int64_t feeOf(std::int64_t amount, int bps);

/// The part of `fee` that goes back with a refund of `refund` of `captured`: proportional,
/// rounded down, so the refunds of a capture never return more fee than it took.
std::int64_t feeShare(std::int64_t fee, std::int64_t refund, std::int64_t captured);

}  // namespace restinu::payment::money
