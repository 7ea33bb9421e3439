#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "restinu/rt/http.hpp"

namespace restinu::rt {

/// The request body as JSON. Throws ApiError: 415 unsupported-media-type unless the
/// Content-Type is application/json (or +json), 400 malformed-json with the byte offset when the
/// body does not parse (including an empty body). Handlers validate the value's shape after.
boost::json::value parseJsonBody(const Request& req);

/// parseJsonBody, and the value must be an object: 422 validation-failed otherwise.
boost::json::object parseJsonObject(const Request& req);

/// A JSON response from a Boost.JSON value.
Response jsonResponse(int status, const boost::json::value& v);

}  // namespace restinu::rt
