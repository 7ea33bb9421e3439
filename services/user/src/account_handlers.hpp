#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"
#include "user_store.hpp"

namespace restinu::rt {
class PgPool;
}  // namespace restinu::rt

namespace restinu::user {

/// The account as its owner and admins see it (JSON), shared by the handlers that answer with it.
boost::json::object accountJson(const Account& a);

/// The caller's profile, and the admin's view of every account. Admin routes are declared
/// admin-only (the router reads the role from the database on every call, so a demoted admin
/// loses the right at once); a role change reads it again in its own transaction.
class AccountHandlers {
public:
    explicit AccountHandlers(rt::PgPool& pool);

    rt::Task<rt::Response> me(rt::Request& req);          // GET /api/v1/users/me
    rt::Task<rt::Response> updateMe(rt::Request& req);    // PATCH /api/v1/users/me
    rt::Task<rt::Response> listUsers(rt::Request& req);   // GET /api/v1/admin/users
    rt::Task<rt::Response> changeRole(rt::Request& req);  // PATCH /api/v1/admin/users/{id}
    /// What anyone may know of an agent (or admin) who lists properties: name, role, since when,
    /// whether KYC approved them. 404 for anyone else (an investor's name is not public).
    rt::Task<rt::Response> publicProfile(rt::Request& req);  // GET /api/v1/users/{id}/profile

private:
    rt::Task<rt::Response> profile(const std::string& user_id);

    rt::PgPool& pool_;
    UserStore users_;
};

}  // namespace restinu::user
