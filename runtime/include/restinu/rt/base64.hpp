#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace restinu::rt {

/// RFC 4648 §5 base64url without padding (tokens, cursors, keys).
std::string base64UrlEncode(std::string_view bytes);
/// Accepts unpadded base64url only; nullopt on any other character or an impossible length.
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace restinu::rt
