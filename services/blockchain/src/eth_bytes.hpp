#pragma once

#include <boost/multiprecision/cpp_int.hpp>
#include <optional>
#include <string>
#include <string_view>

/// The byte and number types of the Ethereum code (RLP, ABI, transactions, JSON-RPC). Bytes are
/// held in std::string (binary, not text), as in the rest of the project; numbers that may reach
/// 2^256 - 1 (wei, token amounts, fees) are U256, never a double.
namespace restinu::blockchain::eth {

/// Unsigned 256-bit integer; arithmetic wraps as the EVM's does (unchecked).
using U256 = boost::multiprecision::uint256_t;

/// "0x" and lower-case hex of `bytes`.
std::string hex(std::string_view bytes);
/// The bytes of hex text with or without "0x"; nullopt on an odd length or a non-hex digit.
std::optional<std::string> unhex(std::string_view text);

/// `v` big-endian in exactly `width` bytes (32 for an ABI word); the low bytes if it is wider.
std::string toBigEndian(const U256& v, std::size_t width = 32);
/// `v` big-endian with no leading zero bytes (RLP's form; zero is empty).
std::string toMinimalBigEndian(const U256& v);
/// The number in up to 32 big-endian bytes.
U256 fromBigEndian(std::string_view bytes);

/// JSON-RPC's QUANTITY: "0x" and hex with no leading zeros ("0x0" for zero).
std::string quantity(const U256& v);
/// A QUANTITY back (also accepts leading zeros); nullopt if it is not one or exceeds 2^256 - 1.
std::optional<U256> parseQuantity(std::string_view text);
/// Decimal digits only (no sign, no exponent), at most 2^256 - 1; nullopt otherwise.
std::optional<U256> parseDecimal(std::string_view text);
std::string decimal(const U256& v);

}  // namespace restinu::blockchain::eth
