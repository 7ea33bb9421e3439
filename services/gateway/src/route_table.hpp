#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace restinu::gateway {

/// Which service owns a public path, by prefix on whole path segments: `/api/v1/users/me`
/// belongs to `/api/v1/users`, `/api/v1/usersx` belongs to nobody.
struct PrefixRoute {
    std::string_view prefix;
    std::string_view service;
};

/// Whether `path` starts with `prefix` on whole segments; a prefix segment "*" stands for any
/// one non-empty segment (/api/v1/properties/*/images).
bool prefixMatches(std::string_view prefix, std::string_view path);

/// The public API's prefixes: the registry's (services/registry.tsv).
const std::vector<PrefixRoute>& publicRoutes();

/// The service for `path`, or nullopt. The longest matching prefix wins, so
/// /api/v1/properties/*/tokenize takes a listing's tokenization from /api/v1/properties.
std::optional<std::string_view> serviceFor(std::string_view path);

/// The services that appear in publicRoutes(), each once.
std::vector<std::string> routedServices();

struct Upstream {
    std::string host;
    std::uint16_t port = 0;
    std::string text() const { return host + ":" + std::to_string(port); }
};

/// Parses "host:port"; nullopt on anything else.
std::optional<Upstream> parseUpstream(std::string_view text);

/// Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy sets itself: never forwarded.
bool isHopByHop(std::string_view header);

/// Whether the comma-separated field value `list` (RFC 9110 §5.6.1) has `token` as a member,
/// ignoring case and the spaces around members.
bool listHasToken(std::string_view list, std::string_view token);

/// Whether `header` is one that the `Connection` field value `connection` names (its
/// connection options, RFC 9110 §7.6.1): hop-by-hop too, never forwarded.
bool namedByConnection(std::string_view header, std::string_view connection);

}  // namespace restinu::gateway
