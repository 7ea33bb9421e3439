#pragma once

#include <string>
#include <string_view>

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
}  // namespace restinu::rt

namespace restinu::user {

/// Who makes a write and under which request: what a store puts in the audit row and in the
/// event's trace context. Stores never see the HTTP request itself.
struct WriteContext {
    std::string actor;  ///< the acting user's id, "cli" for a command
    std::string request_id;
    std::string traceparent;

    static WriteContext of(const rt::Request& req, std::string actor) {
        return {std::move(actor), req.request_id, std::string(req.header("traceparent"))};
    }
};

/// Writes an event of the user aggregate (contracts/events.hpp) to the outbox in `tx`.
rt::Task<void> enqueueUserEvent(rt::PgConn& tx, std::string_view type, const std::string& user_id,
                                std::string data, const WriteContext& ctx);

}  // namespace restinu::user
