#pragma once

#include <optional>
#include <string>
#include <string_view>

/// Rules for the profile fields a user may change about themselves.
namespace restinu::user::domain {

/// A phone number in E.164 form: '+', a country code starting 1-9, at most 15 digits in all and
/// at least 8 (the shortest numbers in service), nothing else. Spaces, hyphens, dots and
/// parentheses that people type are removed first: "+91 98765-43210" → "+919876543210".
/// nullopt when what remains is not E.164.
std::optional<std::string> normalisePhone(std::string_view phone);

/// A preferred language as a BCP 47 tag of the forms people's settings use: a 2-3 letter
/// language, optionally a 4-letter script and/or a 2-letter or 3-digit region ("en", "hi-IN",
/// "zh-Hant-TW"). Returned in canonical case ("en-IN", "zh-Hant-TW"); '_' is read as '-'.
/// nullopt for anything else.
std::optional<std::string> normaliseLanguage(std::string_view tag);

/// A display name: trimmed, 1 to 100 Unicode code points, no control characters, valid UTF-8.
/// nullopt otherwise.
std::optional<std::string> normaliseName(std::string_view name);

/// The roles, weakest first. `isRole` is true for exactly these.
inline constexpr std::string_view kRoles[] = {"investor", "agent", "admin"};
bool isRole(std::string_view role);

}  // namespace restinu::user::domain
