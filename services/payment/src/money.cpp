#include "money.hpp"

#include <array>
#include <stdexcept>

namespace restinu::payment::money {
namespace {

// 128-bit products: exact for any amount a bigint holds (a GCC/Clang extension).
__extension__ using Wide = __int128;

constexpr std::array<std::string_view, 20> kOnes = {
    "",         "One",     "Two",     "Three",     "Four",     "Five",    "Six",
    "Seven",    "Eight",   "Nine",    "Ten",       "Eleven",   "Twelve",  "Thirteen",
    "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
constexpr std::array<std::string_view, 10> kTens = {
    "", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"};

void append(std::string& out, std::string_view word) {
    if (!out.empty()) {
        out += ' ';
    }
    out += word;
}

// 0..999 in words.
void belowThousand(std::string& out, std::int64_t n) {
    if (n >= 100) {
        append(out, kOnes[static_cast<std::size_t>(n / 100)]);
        append(out, "Hundred");
        n %= 100;
    }
    if (n >= 20) {
        append(out, kTens[static_cast<std::size_t>(n / 10)]);
        n %= 10;
    }
    if (n > 0) {
        append(out, kOnes[static_cast<std::size_t>(n)]);
    }
}

// Whole numbers in the Indian system: crore (10^7), lakh (10^5), thousand, hundreds. Crores
// above 99 are themselves written in this system ("One Thousand Crore").
void indianWords(std::string& out, std::int64_t n) {
    if (n >= 10'000'000) {
        indianWords(out, n / 10'000'000);
        append(out, "Crore");
        n %= 10'000'000;
    }
    if (n >= 100'000) {
        belowThousand(out, n / 100'000);
        append(out, "Lakh");
        n %= 100'000;
    }
    if (n >= 1'000) {
        belowThousand(out, n / 1'000);
        append(out, "Thousand");
        n %= 1'000;
    }
    belowThousand(out, n);
}

struct Names {
    std::string_view major;
    std::string_view minor;
};

Names namesOf(std::string_view currency) {
    if (currency == "INR") {
        return {"Rupees", "Paise"};
    }
    if (currency == "USD" || currency == "SGD") {
        return {"Dollars", "Cents"};
    }
    if (currency == "EUR") {
        return {"Euros", "Cents"};
    }
    if (currency == "GBP") {
        return {"Pounds", "Pence"};
    }
    if (currency == "AED") {
        return {"Dirhams", "Fils"};
    }
    return {currency, "Minor Units"};
}

}  // namespace

std::int64_t minorPerMajor(std::string_view currency) {
    return currency == "JPY" || currency == "KRW" ? 1 : 100;
}

std::string indianFigures(std::int64_t minor, std::string_view currency) {
    if (minor < 0) {
        return "-" + indianFigures(-minor, currency);
    }
    const auto per = minorPerMajor(currency);
    const std::string whole = std::to_string(minor / per);
    std::string grouped;
    const std::size_t n = whole.size();
    for (std::size_t i = 0; i < n; ++i) {
        grouped += whole[i];
        const std::size_t left = n - i - 1;  // digits still to come
        if (left > 0 && (left == 3 || (left > 3 && (left - 3) % 2 == 0))) {
            grouped += ',';
        }
    }
    if (per == 1) {
        return grouped;
    }
    const auto cents = minor % per;
    return grouped + (cents < 10 ? ".0" : ".") + std::to_string(cents);
}

std::string amountInWords(std::int64_t minor, std::string_view currency) {
    if (minor < 0) {
        throw std::invalid_argument("amountInWords: a negative amount");
    }
    const auto per = minorPerMajor(currency);
    const auto names = namesOf(currency);
    std::string out;
    const auto whole = minor / per;
    const auto part = minor % per;
    if (whole == 0 && part == 0) {
        out = "Zero";
    }
    indianWords(out, whole);
    if (whole > 0 || part == 0) {
        append(out, names.major);
    }
    if (part > 0) {
        if (whole > 0) {
            append(out, "and");
        }
        belowThousand(out, part);
        append(out, names.minor);
    }
    append(out, "Only");
    return out;
}

std::int64_t feeOf(std::int64_t amount, int bps) {
    return static_cast<std::int64_t>(static_cast<Wide>(amount) * bps / 10'000);
}

std::int64_t feeShare(std::int64_t fee, std::int64_t refund, std::int64_t captured) {
    if (captured <= 0) {
        return 0;
    }
    return static_cast<std::int64_t>(static_cast<Wide>(fee) * refund / captured);
}

}  // namespace restinu::payment::money
