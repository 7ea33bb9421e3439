#include "user_roles.hpp"

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::property {

rt::Task<void> applyUserRole(rt::PgConn& tx, const rt::Event& event) {
    std::string user_id;
    std::string role;
    if (event.type == contracts::UserRegistered::kType) {
        auto e = contracts::UserRegistered::parse(event.data);
        user_id = std::move(e.user_id);
        role = std::move(e.role);
    } else if (event.type == contracts::UserRoleChanged::kType) {
        auto e = contracts::UserRoleChanged::parse(event.data);
        user_id = std::move(e.user_id);
        role = std::move(e.role);
    } else {
        co_return;  // other user events do not change a role
    }
    if (!rt::isUuid(user_id) || user_id != event.aggregate_id) {
        throw std::runtime_error("user event for another user than its aggregate: " + event.type);
    }
    co_await tx.execute(
        "property_user_role",
        "INSERT INTO user_roles AS r (user_id, role, event_id) VALUES ($1::uuid, $2, $3::uuid) "
        "ON CONFLICT (user_id) DO UPDATE SET role = EXCLUDED.role, event_id = EXCLUDED.event_id, "
        "updated_at = now() WHERE r.event_id < EXCLUDED.event_id",
        user_id, role, event.id);
}

rt::Task<rt::Identity> currentRoles(rt::PgPool& pool, const rt::Identity& who) {
    rt::Identity out = who;
    if (!rt::isUuid(who.user_id)) {
        co_return out;
    }
    auto r =
        co_await pool.execute("property_current_role",
                              "SELECT role FROM user_roles WHERE user_id = $1::uuid", who.user_id);
    if (r.rows() == 1) {
        out.roles = {std::string(r.get(0, 0))};
    }
    co_return out;
}

}  // namespace restinu::property
