#pragma once

#include <string>
#include <string_view>

/// Writing JSON text directly into a string, for the hot paths where building a document
/// first costs more than the answer (log lines, problem bodies, search pages).
namespace restinu::rt {

/// Appends `text` to `out` as a JSON string body (without quotes), escaping as RFC 8259 asks.
void appendJsonEscaped(std::string& out, std::string_view text);

/// Appends `text` as a JSON string, quotes included.
void appendJsonString(std::string& out, std::string_view text);

/// Appends a number as PostgreSQL printed it, or null for what is not a JSON number (NaN, the
/// infinities, anything else).
void appendJsonNumber(std::string& out, std::string_view text);

/// Appends `"name":`, after a comma unless it opens its object (`out` ends with '{').
void appendJsonField(std::string& out, std::string_view name);

}  // namespace restinu::rt
