#pragma once

#include <string>
#include <string_view>

#include "restinu/rt/task.hpp"
#include "restinu/rt/write_context.hpp"

namespace restinu::rt {
class PgConn;
}  // namespace restinu::rt

namespace restinu::user {

using rt::WriteContext;

/// Writes an event of the user aggregate (contracts/events.hpp) to the outbox in `tx`.
rt::Task<void> enqueueUserEvent(rt::PgConn& tx, std::string_view type, const std::string& user_id,
                                std::string data, const WriteContext& ctx);

}  // namespace restinu::user
