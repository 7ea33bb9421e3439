#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Edge hygiene that needs no I/O: who the client is behind trusted proxies, CORS, trace context.
namespace restinu::gateway {

/// The client's address: `remote_ip` unless it is a trusted proxy, in which case the rightmost
/// address of `X-Forwarded-For` that is not a trusted proxy (what a client prepends is never
/// believed). `trusted` holds exact addresses.
std::string clientIp(std::string_view remote_ip, std::string_view forwarded_for,
                     const std::vector<std::string>& trusted);

/// The X-Forwarded-For to send upstream: the trusted chain plus the peer, or the peer alone.
std::string forwardedFor(std::string_view remote_ip, std::string_view forwarded_for,
                         const std::vector<std::string>& trusted);

/// How the gateway sees a request path before its rules and routing (RFC 3986 §6.2.2 in
/// part): runs of '/' become one, so `//api/v1/auth/login` meets the rules of
/// `/api/v1/auth/login`. A dot segment (`.` or `..`, also percent-encoded) or an encoded
/// '/' or backslash inside a segment is refused (nullopt: the caller answers 400), since
/// another hop could resolve it differently. Most paths come back unchanged; see
/// pathIsNormal() for the check that lets them skip this.
std::optional<std::string> normalisePath(std::string_view path);

/// True when `path` has nothing normalisePath() would change or refuse (no "//", no '.'
/// right after a '/', no '%'). One pass, no allocation.
bool pathIsNormal(std::string_view path);

/// Whether `origin` is allowed by `allowed` (exact, or "*" for any).
bool corsAllowed(std::string_view origin, const std::vector<std::string>& allowed);

/// Headers of the answer to a CORS preflight (OPTIONS with Origin and
/// Access-Control-Request-Method) from an allowed origin.
std::vector<std::pair<std::string, std::string>> corsPreflightHeaders(
    std::string_view origin, std::string_view request_headers, long max_age_s);

/// Headers added to an ordinary answer to an allowed origin.
std::vector<std::pair<std::string, std::string>> corsHeaders(std::string_view origin);

/// True for a well-formed W3C traceparent (version 00, non-zero trace and parent ids).
bool validTraceparent(std::string_view value);

/// A traceparent continuing `incoming` (same trace id, a new parent id) or starting a trace.
std::string nextTraceparent(std::string_view incoming);

}  // namespace restinu::gateway
