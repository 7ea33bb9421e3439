#include "user_roles.hpp"

#include <boost/json.hpp>

#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::property {

rt::Task<void> applyUserRole(rt::PgConn& tx, const rt::Event& event) {
    if (event.type != "user.registered" && event.type != "user.role_changed") {
        co_return;
    }
    auto data = boost::json::parse(event.data).as_object();
    const auto* role = data.if_contains("role");
    if (role == nullptr || !role->is_string() || !rt::isUuid(event.aggregate_id)) {
        throw std::runtime_error("user event without a role or user id: " + event.type);
    }
    const std::string role_text(role->as_string());
    co_await tx.execute(
        "property_user_role",
        "INSERT INTO user_roles AS r (user_id, role, event_id) VALUES ($1::uuid, $2, $3::uuid) "
        "ON CONFLICT (user_id) DO UPDATE SET role = EXCLUDED.role, event_id = EXCLUDED.event_id, "
        "updated_at = now() WHERE r.event_id < EXCLUDED.event_id",
        event.aggregate_id, role_text, event.id);
}

rt::Task<rt::Identity> currentRoles(rt::PgPool& pool, const rt::Identity& who) {
    rt::Identity out = who;
    if (!rt::isUuid(who.user_id)) {
        co_return out;
    }
    auto r = co_await pool.execute("property_current_role",
                                   "SELECT role FROM user_roles WHERE user_id = $1::uuid",
                                   who.user_id);
    if (r.rows() == 1) {
        out.roles = {std::string(r.get(0, 0))};
    }
    co_return out;
}

}  // namespace restinu::property
