#include "commands.hpp"

#include <boost/json.hpp>
#include <istream>

#include "password_policy.hpp"
#include "passwords.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {

namespace json = boost::json;

rt::Task<CreateAdminResult> createAdmin(rt::PgPool& pool, const std::string& email_in,
                                        const std::string& password, std::string& why) {
    auto email = domain::normaliseEmail(email_in);
    if (!email) {
        why = "not a valid e-mail address";
        co_return CreateAdminResult::BadEmail;
    }
    auto check = domain::checkPassword(password, *email);
    if (!check.ok) {
        why = "password " + check.reason;
        co_return CreateAdminResult::WeakPassword;
    }
    auto hash = hashPassword(password);
    auto id = rt::newUuidV7();
    bool created = false;
    co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        auto r = co_await tx.query(
            "INSERT INTO users (id, email, password_hash, name, role) "
            "VALUES ($1::uuid, $2, $3, 'Administrator', 'admin') "
            "ON CONFLICT ((lower(email))) DO NOTHING",
            id, *email, hash);
        if (r.affected() == 0) {
            co_return;
        }
        created = true;
        const contracts::UserRegistered registered{id, *email, "admin"};
        auto event = rt::makeEvent(std::string(registered.kType),
                                   std::string(contracts::kUserAggregate), id, registered.data());
        co_await rt::enqueueEvent(tx, event);
        co_await rt::audit(tx, "cli", "user.create_admin", "user", id, "");
    });
    co_return created ? CreateAdminResult::Created : CreateAdminResult::Exists;
}

std::string readPasswordLine(std::istream& in) {
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

}  // namespace restinu::user
