#include "commands.hpp"

#include <boost/json.hpp>
#include <istream>

#include "password_policy.hpp"
#include "passwords.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "user_store.hpp"

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
    const NewAccount account{rt::newUuidV7(), *email, hash, "Administrator", "admin"};
    const WriteContext ctx{"cli", "", ""};
    bool created = co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
        co_return co_await UserStore::create(tx, account, ctx, "user.create_admin");
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
