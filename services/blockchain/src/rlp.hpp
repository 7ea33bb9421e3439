#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eth_bytes.hpp"

/// Recursive Length Prefix, Ethereum's serialisation of transactions (Yellow Paper, appendix B).
/// Encoding works on already-encoded items, so a list is built from its members' encodings.
namespace restinu::blockchain::eth::rlp {

/// A byte string: one byte below 0x80 stands for itself, else a length prefix.
std::string bytes(std::string_view b);
/// An integer: its minimal big-endian bytes (zero is the empty string, 0x80).
std::string uint(const U256& v);
/// A list of items, each already encoded.
std::string list(const std::vector<std::string>& encoded_items);

/// A decoded item: a byte string, or a list of items.
struct Item {
    bool is_list = false;
    std::string bytes;
    std::vector<Item> items;
};

/// Decodes `data`, which must be exactly one item in canonical form (a single byte below 0x80
/// not wrapped, no length with leading zeros, long forms only where short ones cannot do);
/// nullopt otherwise. Nesting deeper than 64 is refused.
std::optional<Item> decode(std::string_view data);

}  // namespace restinu::blockchain::eth::rlp
