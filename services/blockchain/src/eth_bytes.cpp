#include "eth_bytes.hpp"

namespace restinu::blockchain::eth {
namespace {

constexpr std::string_view kDigits = "0123456789abcdef";

int nibble(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string_view withoutPrefix(std::string_view text) {
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
    }
    return text;
}

}  // namespace

std::string hex(std::string_view bytes) {
    std::string out = "0x";
    out.reserve(2 + bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 0x0f];
    }
    return out;
}

std::optional<std::string> unhex(std::string_view text) {
    text = withoutPrefix(text);
    if (text.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string out(text.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = nibble(text[2 * i]);
        const int lo = nibble(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out[i] = static_cast<char>((hi << 4) | lo);
    }
    return out;
}

std::string toBigEndian(const U256& v, std::size_t width) {
    std::string out(width, '\0');
    U256 x = v;
    for (std::size_t i = 0; i < width && x != 0; ++i) {
        out[width - 1 - i] = static_cast<char>(static_cast<unsigned>(x & 0xff));
        x >>= 8;
    }
    return out;
}

std::string toMinimalBigEndian(const U256& v) {
    std::string full = toBigEndian(v, 32);
    const auto first = full.find_first_not_of('\0');
    return first == std::string::npos ? std::string() : full.substr(first);
}

U256 fromBigEndian(std::string_view bytes) {
    U256 v = 0;
    for (unsigned char c : bytes) {
        v = (v << 8) | c;
    }
    return v;
}

std::string quantity(const U256& v) {
    if (v == 0) {
        return "0x0";
    }
    std::string digits;
    U256 x = v;
    while (x != 0) {
        digits += kDigits[static_cast<unsigned>(x & 0x0f)];
        x >>= 4;
    }
    return "0x" + std::string(digits.rbegin(), digits.rend());
}

std::optional<U256> parseQuantity(std::string_view text) {
    if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
        return std::nullopt;
    }
    text.remove_prefix(2);
    text.remove_prefix(std::min(text.find_first_not_of('0'), text.size()));
    if (text.size() > 64) {
        return std::nullopt;
    }
    U256 v = 0;
    for (char c : text) {
        const int d = nibble(c);
        if (d < 0) {
            return std::nullopt;
        }
        v = (v << 4) | static_cast<unsigned>(d);
    }
    return v;
}

std::optional<U256> parseDecimal(std::string_view text) {
    if (text.empty() || text.size() > 78) {
        return std::nullopt;
    }
    boost::multiprecision::uint512_t v = 0;  // room to see an overflow of 256 bits
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > boost::multiprecision::uint512_t(std::numeric_limits<U256>::max())) {
        return std::nullopt;
    }
    return static_cast<U256>(v);
}

std::string decimal(const U256& v) {
    return v.str();
}

}  // namespace restinu::blockchain::eth
