#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/http.hpp"

/// RFC 9457 problem details. Every error a client sees is one of these, with a `type` from the
/// catalogue below (docs/problems.md lists them). A `type` never changes once it ships.
namespace restinu::rt {

struct ProblemType {
    std::string_view slug;   ///< the last part of the type URI
    std::string_view title;  ///< short, human, the same for every occurrence
    int status;
};

namespace problems {
inline constexpr std::string_view kBaseUri = "https://restinu.dev/problems/";

inline constexpr ProblemType kBadRequest{"bad-request", "Bad request", 400};
inline constexpr ProblemType kMalformedJson{"malformed-json", "Malformed JSON body", 400};
inline constexpr ProblemType kValidation{"validation-failed", "Request failed validation", 422};
inline constexpr ProblemType kUnauthorized{"unauthorized", "Authentication required", 401};
inline constexpr ProblemType kInvalidIdentity{"invalid-identity",
                                              "Identity headers not signed by the gateway", 401};
inline constexpr ProblemType kForbidden{"forbidden", "Not allowed", 403};
inline constexpr ProblemType kNotFound{"not-found", "Resource not found", 404};
inline constexpr ProblemType kMethodNotAllowed{"method-not-allowed", "Method not allowed", 405};
inline constexpr ProblemType kConflict{"conflict", "Conflict", 409};
inline constexpr ProblemType kInvalidQuery{"invalid-query", "Invalid query parameters", 400};
inline constexpr ProblemType kPreconditionFailed{"precondition-failed",
                                                 "The resource changed since you read it", 412};
inline constexpr ProblemType kPreconditionRequired{"precondition-required",
                                                   "Send If-Match with the ETag you read", 428};
inline constexpr ProblemType kPayloadTooLarge{"payload-too-large", "Request body too large", 413};
inline constexpr ProblemType kUnsupportedMediaType{"unsupported-media-type",
                                                   "Unsupported media type", 415};
inline constexpr ProblemType kRangeNotSatisfiable{"range-not-satisfiable", "Range not satisfiable",
                                                  416};
inline constexpr ProblemType kHeadersTooLarge{"headers-too-large", "Request headers too large",
                                              431};
inline constexpr ProblemType kRateLimited{"rate-limited", "Too many requests", 429};
inline constexpr ProblemType kIdempotencyKeyRequired{"idempotency-key-required",
                                                     "Idempotency-Key header required", 400};
inline constexpr ProblemType kIdempotencyKeyInUse{
    "idempotency-key-in-use", "A request with this Idempotency-Key is still running", 409};
inline constexpr ProblemType kIdempotencyKeyReused{
    "idempotency-key-reused", "Idempotency-Key reused with a different request", 422};
inline constexpr ProblemType kTooManyIdempotencyKeys{
    "too-many-idempotency-keys", "Too many idempotency keys held by this caller", 429};
inline constexpr ProblemType kInternal{"internal", "Internal server error", 500};
inline constexpr ProblemType kBadGateway{"bad-gateway", "Upstream failed", 502};
inline constexpr ProblemType kUnavailable{"service-unavailable", "Service unavailable", 503};
inline constexpr ProblemType kGatewayTimeout{"gateway-timeout", "Upstream timed out", 504};
}  // namespace problems

struct FieldError {
    std::string field;
    std::string reason;
};

struct Problem {
    ProblemType type;
    std::string detail;
    std::vector<FieldError> errors;                            ///< for validation problems
    std::vector<std::pair<std::string, std::string>> headers;  ///< e.g. Retry-After, Allow
};

/// Thrown by handlers and helpers; the server's single catch renders it. `detail` goes to the
/// client, so it never carries internal text (that goes to the log).
class ApiError : public std::exception {
public:
    ApiError(ProblemType type, std::string detail, std::vector<FieldError> errors = {})
        : problem_{type, std::move(detail), std::move(errors), {}} {}
    explicit ApiError(Problem p) : problem_(std::move(p)) {}

    const char* what() const noexcept override { return problem_.type.title.data(); }
    const Problem& problem() const { return problem_; }

private:
    Problem problem_;
};

/// The problem+json body for `p`, with `instance` (the request path) and `request_id`.
std::string problemJson(const Problem& p, std::string_view instance, std::string_view request_id);

/// A complete response: status, `application/problem+json`, the problem's headers.
Response problemResponse(const Problem& p, std::string_view instance, std::string_view request_id);

}  // namespace restinu::rt
