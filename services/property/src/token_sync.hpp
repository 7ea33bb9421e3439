#pragma once

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
struct Event;
}  // namespace restinu::rt

namespace restinu::property {

/// property.tokenized (from the blockchain service): the listing shows its deed and shares
/// contract as `token`, one version up, with a property.updated of its own so every view and
/// cache of the listing moves on.
rt::Task<void> applyTokenized(rt::PgConn& tx, const rt::Event& event);

}  // namespace restinu::property
