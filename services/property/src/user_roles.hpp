#pragma once

#include <string>
#include <vector>

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
struct Event;
}  // namespace restinu::rt

/// The property service's copy of each user's current role (table user_roles), so that a
/// demoted admin or agent loses those rights at once rather than when the token expires.
namespace restinu::property {

/// The consumer of the user service's events (group property-user-roles): user.registered and
/// user.role_changed set the row; other user events are ignored.
rt::Task<void> applyUserRole(rt::PgConn& tx, const rt::Event& event);

/// The caller with the roles the user service gives it now: the copy's role when there is one;
/// the token's roles for a user the copy has never heard of (an account made before this
/// service consumed user events, or while its consumer lags: one whose role never changed since).
rt::Task<rt::Identity> currentRoles(rt::PgPool& pool, const rt::Identity& who);

}  // namespace restinu::property
