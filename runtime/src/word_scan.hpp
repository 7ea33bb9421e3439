#pragma once
// Internal to the runtime: tests on eight bytes at once (one 64-bit word), for scans that look
// for the few bytes that need attention in long plain runs (HTTP field values, JSON strings).
// Each test may flag a word that holds no such byte (it is then looked at byte by byte) but
// never misses one.

#include <cstdint>
#include <cstring>

namespace restinu::rt::detail {

inline constexpr std::uint64_t kEachByte = 0x0101010101010101ULL;
inline constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

/// The eight bytes at `p`, in memory order.
inline std::uint64_t loadWord(const char* p) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, sizeof w);
    return w;
}

/// Whether some byte of `w` is below `n` (n at most 0x80; bytes from 0x80 up never count).
inline bool anyByteBelow(std::uint64_t w, unsigned char n) {
    return ((w - kEachByte * n) & ~w & kHighBits) != 0;
}

/// Whether some byte of `w` is `c`.
inline bool anyByteIs(std::uint64_t w, unsigned char c) {
    std::uint64_t x = w ^ (kEachByte * c);
    return ((x - kEachByte) & ~x & kHighBits) != 0;
}

/// Whether some byte of `w` is 0x80 or above.
inline bool anyHighByte(std::uint64_t w) {
    return (w & kHighBits) != 0;
}

}  // namespace restinu::rt::detail
