#pragma once

#include <string>
#include <string_view>

namespace restinu::rt {

/// SHA-256 of `data` as 64 lowercase hex characters (OpenSSL).
std::string sha256Hex(std::string_view data);

}  // namespace restinu::rt
