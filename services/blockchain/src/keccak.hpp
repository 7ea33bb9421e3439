#pragma once

#include <string>
#include <string_view>

namespace restinu::blockchain::eth {

/// Keccak-256 as Ethereum uses it (the original Keccak padding, not FIPS 202's SHA3-256):
/// 32 bytes. From Crypto++ (`CryptoPP::Keccak_256`).
std::string keccak256(std::string_view data);

}  // namespace restinu::blockchain::eth
