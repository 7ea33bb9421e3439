#pragma once

#include <optional>
#include <string>
#include <string_view>

/// Content identifiers (multiformats CID v1) for the metadata the deeds point to
/// (`ipfs://<CID>`): sha2-256 of the bytes, the `raw` codec (0x55), written in base32 (lower
/// case, no padding, multibase prefix "b"). That is the CID an IPFS node gives a file under
/// 256 KiB added with `--cid-version=1 --raw-leaves`, so the local store and a node agree.
namespace restinu::blockchain::cid {

/// "bafkrei…" for `bytes`.
std::string ofBytes(std::string_view bytes);

/// Whether `text` is a CID v1 of the raw codec with a sha2-256 digest in base32 (the only kind
/// we make); the digest's 32 bytes when it is.
std::optional<std::string> digestOf(std::string_view text);

/// RFC 4648 base32, lower case, no padding.
std::string base32(std::string_view bytes);

}  // namespace restinu::blockchain::cid
