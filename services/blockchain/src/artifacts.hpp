#pragma once

#include <string>
#include <string_view>

#include "abi.hpp"

/// The contracts' compiled artifacts (services/blockchain/contracts/build/*.json, made by
/// tools/chain/compile.mjs and checked by the tests to be what the pinned compiler makes of the
/// sources), compiled into the binary.
namespace restinu::blockchain::artifacts {

/// A contract's creation bytecode; throws std::invalid_argument for an unknown name.
std::string bytecode(std::string_view contract);

/// The creation data of `contract`: its bytecode followed by the constructor's arguments.
std::string creation(std::string_view contract, const std::vector<std::string>& types,
                     const std::vector<eth::abi::Value>& args);

}  // namespace restinu::blockchain::artifacts
