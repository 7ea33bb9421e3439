#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"
#include "write_context.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The user account aggregate (table users, with the KYC status shown beside a profile): its
/// SQL, its row mapping and its events. Reads take the pool; writes take the caller's
/// transaction and write their event (and audit row) in it.
namespace restinu::user {

/// An account as its owner and admins see it.
struct Account {
    std::string id;
    std::string email;
    std::string name;
    std::optional<std::string> phone;
    std::string language;
    std::string role;
    std::string created_at;
    std::string updated_at;
    std::string kyc_status;  ///< "none" before any submission
    bool email_verified = false;
};

/// What login checks.
struct Credentials {
    std::string id;
    std::string password_hash;
    std::string role;
};

struct NewAccount {
    std::string id;
    std::string email;  ///< normalised
    std::string password_hash;
    std::string name;
    std::string role;
};

/// Fields a profile update sets; absent ones keep their value (a phone set to nullopt clears).
struct ProfileChange {
    std::optional<std::string> name;
    std::optional<std::optional<std::string>> phone;
    std::optional<std::string> language;
    std::vector<std::string> fields;  ///< the names sent, for the audit row
};

struct AccountFilter {
    std::optional<std::string> role;
    std::string email_prefix;
    std::optional<std::string> after_id;  ///< the last id of the previous page
    std::int64_t limit = 50;              ///< rows to return (a page asks for one more)
};

class UserStore {
public:
    explicit UserStore(rt::PgPool& pool) : pool_(pool) {}

    rt::Task<std::optional<Account>> find(const std::string& id);
    /// Ordered by id (UUIDv7: time ordered).
    rt::Task<std::vector<Account>> list(const AccountFilter& filter);
    rt::Task<std::optional<Credentials>> credentials(const std::string& email);
    /// The account's role now, or nullopt when it does not exist.
    rt::Task<std::optional<std::string>> role(const std::string& id);

    /// Inserts the account with its user.registered event and an audit row; false (nothing
    /// written) when the e-mail is taken.
    static rt::Task<bool> create(rt::PgConn& tx, const NewAccount& a, const WriteContext& ctx,
                                 std::string_view audit_action);
    /// False when the account does not exist.
    static rt::Task<bool> updateProfile(rt::PgConn& tx, const std::string& id,
                                        const ProfileChange& change, const WriteContext& ctx);
    /// A failed login as a user.login_failed event (`user_id` empty for an unknown account).
    static rt::Task<void> loginFailed(rt::PgConn& tx, const std::string& user_id,
                                      const std::string& client_ip, const WriteContext& ctx);

    /// Role changes run one at a time (a transaction-scoped lock), so the checks below and the
    /// change see every other change.
    static rt::Task<void> lockRoles(rt::PgConn& tx);
    /// Marks the e-mail verified if `email` is still the account's; false otherwise.
    static rt::Task<bool> markEmailVerified(rt::PgConn& tx, const std::string& id,
                                            const std::string& email);
    static rt::Task<bool> isAdmin(rt::PgConn& tx, const std::string& id);
    /// Whether `id` is the only admin.
    static rt::Task<bool> isLastAdmin(rt::PgConn& tx, const std::string& id);
    /// Sets the role; the role before, or nullopt when there is no such account. A change
    /// writes user.role_changed and an audit row; the same role writes nothing.
    static rt::Task<std::optional<std::string>> setRole(rt::PgConn& tx, const std::string& id,
                                                        const std::string& role,
                                                        const WriteContext& ctx);

private:
    rt::PgPool& pool_;
};

}  // namespace restinu::user
