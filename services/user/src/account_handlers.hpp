#pragma once

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
class TokenVerifier;
}  // namespace restinu::rt

namespace restinu::user {

struct Caller;

/// The caller's profile, and the admin's view of every account. Admin rights are read from the
/// database on every admin call (not from the token), so a demoted admin loses them at once.
class AccountHandlers {
public:
    AccountHandlers(rt::PgPool& pool, const rt::TokenVerifier& verifier);

    rt::Task<rt::Response> me(rt::Request& req);          // GET /api/v1/users/me
    rt::Task<rt::Response> updateMe(rt::Request& req);    // PATCH /api/v1/users/me
    rt::Task<rt::Response> listUsers(rt::Request& req);   // GET /api/v1/admin/users
    rt::Task<rt::Response> changeRole(rt::Request& req);  // PATCH /api/v1/admin/users/{id}

private:
    rt::Task<rt::Response> profile(const std::string& user_id);

    rt::PgPool& pool_;
    const rt::TokenVerifier& verifier_;
};

/// 403 unless `caller` is an admin now (one query).
rt::Task<void> requireAdmin(rt::PgPool& pool, const Caller& caller);

}  // namespace restinu::user
