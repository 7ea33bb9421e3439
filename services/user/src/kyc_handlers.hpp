#pragma once

#include <chrono>
#include <functional>

#include "kyc_store.hpp"
#include "kyc_vault.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
class TokenVerifier;
}  // namespace restinu::rt

namespace restinu::user {

/// Know-your-customer checks: a user submits one identity document, an admin approves or
/// rejects it. States: none → pending → approved | rejected(reason); after a rejection the user
/// may submit again. The number is validated (Verhoeff, PAN, MRZ check digits), encrypted with
/// the vault, and only its masked form ever leaves the service.
class KycHandlers {
public:
    using Today = std::function<std::chrono::year_month_day()>;

    KycHandlers(rt::PgPool& pool, KycVault vault, Today today = {});

    rt::Task<rt::Response> submit(rt::Request& req);   // POST /api/v1/users/me/kyc
    rt::Task<rt::Response> mine(rt::Request& req);     // GET /api/v1/users/me/kyc
    rt::Task<rt::Response> list(rt::Request& req);     // GET /api/v1/admin/kyc?status=
    rt::Task<rt::Response> approve(rt::Request& req);  // POST /api/v1/admin/kyc/{user_id}/approve
    rt::Task<rt::Response> reject(rt::Request& req);   // POST /api/v1/admin/kyc/{user_id}/reject

private:
    rt::Task<rt::Response> decide(rt::Request& req, bool approve);
    rt::Task<rt::Response> view(const std::string& user_id);

    KycStore kyc_;
    KycVault vault_;
    Today today_;
};

}  // namespace restinu::user
