#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Edge hygiene that needs no I/O: who the client is behind trusted proxies, CORS, trace context.
namespace restinu::gateway {

/// `s` without the spaces and tabs around it (RFC 9110 "OWS").
std::string_view trimOws(std::string_view s);

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

/// True for a well-formed W3C traceparent (version 00, non-zero trace and parent ids).
bool validTraceparent(std::string_view value);

/// A traceparent continuing `incoming` (same trace id, a new parent id) or starting a trace.
std::string nextTraceparent(std::string_view incoming);

}  // namespace restinu::gateway
