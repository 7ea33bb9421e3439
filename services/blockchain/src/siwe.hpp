#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eth_key.hpp"

/// Sign-In with Ethereum (EIP-4361) messages: the text a wallet shows and signs with
/// personal_sign (EIP-191), written and read exactly by the EIP's ABNF.
///
///     localhost:8080 wants you to sign in with your Ethereum account:
///     0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed
///
///     Link this Ethereum account to your REST-iN-U account.
///
///     URI: http://localhost:8080
///     Version: 1
///     Chain ID: 31337
///     Nonce: k3Jd92LqPz0aXv7WmB4t
///     Issued At: 2026-05-01T10:00:00Z
///     Expiration Time: 2026-05-01T10:10:00Z
///
/// Lines end in LF alone, and the last one has none.
namespace restinu::blockchain::siwe {

struct Message {
    std::string scheme;  ///< optional "https" before "://" and the domain; empty: none
    std::string domain;  ///< an RFC 3986 authority: host and optional port
    eth::Address address;
    std::optional<std::string> statement;  ///< one line of RFC 3986 reserved/unreserved and spaces
    std::string uri;                       ///< an RFC 3986 URI
    std::uint64_t chain_id = 1;
    std::string nonce;      ///< 8 or more ASCII letters and digits
    std::string issued_at;  ///< RFC 3339 date-time, as written
    std::optional<std::string> expiration_time;
    std::optional<std::string> not_before;
    std::optional<std::string> request_id;
    std::vector<std::string> resources;  ///< URIs

    bool operator==(const Message&) const = default;
};

/// The message's text. The address is written in its EIP-55 form.
std::string format(const Message& m);

/// Reads `text` as the ABNF says, and stricter where the ABNF leaves room: the address must be
/// written in its EIP-55 form (all lower or all upper case is refused too), the chain id has no
/// leading zeros, the version is 1, and nothing follows the last field (not even a newline). So
/// format(*parse(t)) == t. nullopt on anything else, `why` (if given) saying what was wrong.
std::optional<Message> parse(std::string_view text, std::string* why = nullptr);

/// `t` as RFC 3339 in UTC with second precision: "2026-05-01T10:00:00Z".
std::string rfc3339(std::chrono::sys_seconds t);
/// An RFC 3339 date-time (any offset, optional fraction: truncated to the second) as UTC;
/// nullopt when it is not one (or not a real date).
std::optional<std::chrono::sys_seconds> parseRfc3339(std::string_view text);

}  // namespace restinu::blockchain::siwe
