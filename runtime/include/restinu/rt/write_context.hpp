#pragma once

#include <string>
#include <utility>

#include "restinu/rt/http.hpp"

namespace restinu::rt {

/// Who makes a write and under which request: what a store puts in the audit row and in its
/// events' trace context. Stores never see the HTTP request itself.
struct WriteContext {
    std::string actor;  ///< the acting user's id; "cli" for a command
    std::string request_id;
    std::string traceparent;

    static WriteContext of(const Request& req, std::string actor) {
        return {std::move(actor), req.request_id, std::string(req.header("traceparent"))};
    }
};

}  // namespace restinu::rt
