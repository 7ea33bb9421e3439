#pragma once

#include <optional>
#include <string>
#include <string_view>

/// Password and e-mail rules for sign-up and password change, after NIST SP 800-63B §5.1.1.2:
/// length is what counts, there are no composition rules (no "one digit, one symbol"), and
/// known-bad passwords are refused.
namespace restinu::user::domain {

/// Whether a password may be set. `reason` (empty when `ok`) is for the `errors[]` entry of the
/// 422 problem, field "password"; it never repeats the password.
struct PasswordCheck {
    bool ok = false;
    std::string reason;
};

inline constexpr std::size_t kMinPasswordLength = 12;   ///< Unicode code points
inline constexpr std::size_t kMaxPasswordLength = 128;  ///< Unicode code points

/// Checks, in this order, and reports the first rule broken:
///  1. well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF);
///  2. at least 12 and at most 128 code points (not bytes: "é" is one);
///  3. not one ASCII character repeated throughout ("aaaaaaaaaaaa");
///  4. not on the bundled list of common passwords, compared case-insensitively (ASCII);
///  5. not containing the local part of `email` (case-insensitively) when that is 4 or more
///     characters; skipped when `email` is not a valid address, which is reported on its own.
/// Spaces and every printable character are allowed; the password is not trimmed.
PasswordCheck checkPassword(std::string_view password, std::string_view email);

/// The number of code points in `text`, or nullopt if it is not well-formed UTF-8.
std::optional<std::size_t> utf8Length(std::string_view text);

/// True if `password` (any case) is on the bundled common-password list.
bool isCommonPassword(std::string_view password);

/// The address as stored and compared: surrounding whitespace trimmed and the whole address
/// lower-cased (ASCII). nullopt unless it has exactly one '@', a non-empty local part, a domain
/// with a dot that neither starts nor ends it, at most 254 characters, and no space or control
/// character. Quoted local parts are not supported.
std::optional<std::string> normaliseEmail(std::string_view email);

}  // namespace restinu::user::domain
