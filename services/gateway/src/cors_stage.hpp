#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/http.hpp"

/// Stage 0 of the gateway: CORS (Fetch standard). A preflight from a browser is answered here,
/// before any token or limit is checked; an ordinary answer to an allowed origin gets the CORS
/// headers that let the page read it. Only the configured origins (`gateway.cors_origins`) are
/// allowed; with none configured, the gateway speaks no CORS at all.
namespace restinu::gateway {

/// Whether `origin` is allowed by `allowed` (exact, or "*" for any).
bool corsAllowed(std::string_view origin, const std::vector<std::string>& allowed);

/// Headers of the answer to a CORS preflight (OPTIONS with Origin and
/// Access-Control-Request-Method) from an allowed origin.
std::vector<std::pair<std::string, std::string>> corsPreflightHeaders(
    std::string_view origin, std::string_view request_headers, long max_age_s);

/// Headers added to an ordinary answer to an allowed origin.
std::vector<std::pair<std::string, std::string>> corsHeaders(std::string_view origin);

/// The answer to `req` when it is a preflight and CORS is configured: 204, with the preflight
/// headers when the origin is allowed (without them, the browser refuses the real request).
/// nullopt for any other request.
std::optional<rt::Response> corsPreflight(const rt::Request& req,
                                          const std::vector<std::string>& allowed,
                                          std::chrono::milliseconds max_age);

}  // namespace restinu::gateway
