#include "user_store.hpp"

#include <boost/json.hpp>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;

// One list makes both the SELECT and the reader: each value is named.
constexpr std::string_view kAccountSelect =
    "SELECT u.id::text AS id, u.email AS email, u.name AS name, u.phone AS phone, "
    "u.language AS language, u.role AS role, restinu_iso(u.created_at) AS created_at, "
    "restinu_iso(u.updated_at) AS updated_at, coalesce(k.status, 'none') AS kyc_status, "
    "u.email_verified_at IS NOT NULL AS email_verified "
    "FROM users u LEFT JOIN kyc k ON k.user_id = u.id ";

class AccountReader {
public:
    explicit AccountReader(const rt::PgResult& r)
        : r_(r),
          id_(rt::requireColumn(r, "id")),
          email_(rt::requireColumn(r, "email")),
          name_(rt::requireColumn(r, "name")),
          phone_(rt::requireColumn(r, "phone")),
          language_(rt::requireColumn(r, "language")),
          role_(rt::requireColumn(r, "role")),
          created_(rt::requireColumn(r, "created_at")),
          updated_(rt::requireColumn(r, "updated_at")),
          kyc_(rt::requireColumn(r, "kyc_status")),
          verified_(rt::requireColumn(r, "email_verified")) {}

    Account read(std::size_t i) const {
        Account a{std::string(r_.get(i, id_)),       std::string(r_.get(i, email_)),
                  std::string(r_.get(i, name_)),     std::nullopt,
                  std::string(r_.get(i, language_)), std::string(r_.get(i, role_)),
                  std::string(r_.get(i, created_)),  std::string(r_.get(i, updated_)),
                  std::string(r_.get(i, kyc_)),      r_.get(i, verified_) == "t"};
        if (auto phone = r_.opt(i, phone_)) {
            a.phone = std::string(*phone);
        }
        return a;
    }

private:
    const rt::PgResult& r_;
    int id_, email_, name_, phone_, language_, role_, created_, updated_, kyc_, verified_;
};

}  // namespace

rt::Task<void> enqueueUserEvent(rt::PgConn& tx, std::string_view type, const std::string& user_id,
                                std::string data, const WriteContext& ctx) {
    auto event = rt::makeEvent(std::string(type), std::string(contracts::kUserAggregate), user_id,
                               std::move(data), ctx.traceparent);
    co_await rt::enqueueEvent(tx, event);
}

rt::Task<std::optional<Account>> UserStore::find(const std::string& id) {
    const auto sql = std::string(kAccountSelect) + "WHERE u.id = $1::uuid";
    auto r = co_await pool_.query(sql, id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return AccountReader(r).read(0);
}

rt::Task<std::vector<Account>> UserStore::list(const AccountFilter& f) {
    // The e-mail filter is a prefix: LIKE's own characters in it are escaped.
    const auto sql = std::string(kAccountSelect) +
                     "WHERE ($1::text IS NULL OR u.role = $1) "
                     "AND ($2 = '' OR lower(u.email) LIKE replace(replace(replace(lower($2), "
                     "'\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%') "
                     "AND ($3::uuid IS NULL OR u.id > $3::uuid) ORDER BY u.id LIMIT $4";
    auto r = co_await pool_.query(sql, f.role, f.email_prefix, f.after_id, f.limit);
    AccountReader reader(r);
    std::vector<Account> out;
    out.reserve(r.rows());
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back(reader.read(i));
    }
    co_return out;
}

rt::Task<std::optional<Credentials>> UserStore::credentials(const std::string& email) {
    auto r = co_await pool_.query(
        "SELECT id::text AS id, password_hash, role FROM users WHERE lower(email) = lower($1)",
        email);
    if (r.rows() != 1) {
        co_return std::nullopt;
    }
    co_return Credentials{std::string(r.get(0, rt::requireColumn(r, "id"))),
                          std::string(r.get(0, rt::requireColumn(r, "password_hash"))),
                          std::string(r.get(0, rt::requireColumn(r, "role")))};
}

rt::Task<std::optional<std::string>> UserStore::role(const std::string& id) {
    auto r = co_await pool_.execute("user_current_role",
                                    "SELECT role FROM users WHERE id = $1::uuid", id);
    if (r.rows() != 1) {
        co_return std::nullopt;
    }
    co_return std::string(r.get(0, 0));
}

rt::Task<bool> UserStore::create(rt::PgConn& tx, const NewAccount& a, const WriteContext& ctx,
                                 std::string_view audit_action) {
    auto r = co_await tx.query(
        "INSERT INTO users (id, email, password_hash, name, role) "
        "VALUES ($1::uuid, $2, $3, $4, $5) ON CONFLICT ((lower(email))) DO NOTHING",
        a.id, a.email, a.password_hash, a.name, a.role);
    if (r.affected() == 0) {
        co_return false;
    }
    const contracts::UserRegistered registered{a.id, a.email, a.role, a.name, "en"};
    auto registered_data = registered.data();
    co_await enqueueUserEvent(tx, registered.kType, a.id, std::move(registered_data), ctx);
    co_await rt::audit(tx, ctx.actor, audit_action, "user", a.id, ctx.request_id);
    co_return true;
}

rt::Task<bool> UserStore::updateProfile(rt::PgConn& tx, const std::string& id,
                                        const ProfileChange& c, const WriteContext& ctx) {
    // Each field changes only when sent ($n IS NULL keeps it; phone has its own flag).
    auto r = co_await tx.query(
        "UPDATE users SET name = coalesce($2, name), "
        "phone = CASE WHEN $3 THEN $4 ELSE phone END, "
        "language = coalesce($5, language), updated_at = now() WHERE id = $1::uuid "
        "RETURNING email, name, phone, language",
        id, c.name, c.phone.has_value(), c.phone.value_or(std::nullopt), c.language);
    if (r.rows() != 1) {
        co_return false;
    }
    static constexpr std::array<std::string_view, 4> kNames = {"email", "name", "phone",
                                                               "language"};
    const auto col = rt::requireColumns(r, kNames);
    contracts::UserProfileChanged changed{id, std::string(r.get(0, col[0])),
                                          std::string(r.get(0, col[1])), std::nullopt,
                                          std::string(r.get(0, col[3]))};
    if (!r.isNull(0, col[2])) {
        changed.phone = std::string(r.get(0, col[2]));
    }
    auto changed_data = changed.data();
    co_await enqueueUserEvent(tx, changed.kType, id, std::move(changed_data), ctx);
    json::object fields;
    for (const auto& f : c.fields) {
        fields[f] = true;
    }
    auto details = json::serialize(json::object{{"fields", std::move(fields)}});
    co_await rt::audit(tx, ctx.actor, "user.profile_update", "user", id, ctx.request_id, details);
    co_return true;
}

rt::Task<void> UserStore::loginFailed(rt::PgConn& tx, const std::string& user_id,
                                      const std::string& client_ip, const WriteContext& ctx) {
    contracts::UserLoginFailed failed{std::nullopt, client_ip,
                                      user_id.empty() ? "unknown account" : "wrong password"};
    if (!user_id.empty()) {
        failed.user_id = user_id;
    }
    const std::string aggregate_id = user_id.empty() ? "unknown" : user_id;
    auto data = failed.data();
    co_await enqueueUserEvent(tx, failed.kType, aggregate_id, std::move(data), ctx);
}

rt::Task<bool> UserStore::markEmailVerified(rt::PgConn& tx, const std::string& id,
                                            const std::string& email) {
    // Only the address the link went to: a link for an address changed since verifies nothing.
    auto r = co_await tx.query(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) "
        "WHERE id = $1::uuid AND lower(email) = lower($2)",
        id, email);
    co_return r.affected() == 1;
}

rt::Task<void> UserStore::lockRoles(rt::PgConn& tx) {
    co_await tx.query("SELECT pg_advisory_xact_lock(hashtext('restinu.user_roles'))");
}

rt::Task<bool> UserStore::isAdmin(rt::PgConn& tx, const std::string& id) {
    auto r = co_await tx.query("SELECT role = 'admin' FROM users WHERE id = $1::uuid", id);
    co_return r.rows() == 1 && r.get(0, 0) == "t";
}

rt::Task<bool> UserStore::isLastAdmin(rt::PgConn& tx, const std::string& id) {
    auto r = co_await tx.query(
        "SELECT count(*) AS admins, bool_or(id = $1::uuid) AS is_one FROM users "
        "WHERE role = 'admin'",
        id);
    co_return r.get(0, rt::requireColumn(r, "is_one")) == "t" &&
        r.getInt(0, rt::requireColumn(r, "admins")) <= 1;
}

rt::Task<std::optional<std::string>> UserStore::setRole(rt::PgConn& tx, const std::string& id,
                                                        const std::string& role,
                                                        const WriteContext& ctx) {
    auto r = co_await tx.query(
        "UPDATE users u SET role = $2, updated_at = now() FROM users old "
        "WHERE u.id = $1::uuid AND old.id = u.id RETURNING old.role",
        id, role);
    if (r.rows() != 1) {
        co_return std::nullopt;
    }
    std::string before(r.get(0, 0));
    if (before != role) {
        const contracts::UserRoleChanged changed{id, role, before, ctx.actor};
        auto changed_data = changed.data();
        co_await enqueueUserEvent(tx, changed.kType, id, std::move(changed_data), ctx);
        auto details = json::serialize(json::object{{"from", before}, {"to", role}});
        co_await rt::audit(tx, ctx.actor, "user.role_change", "user", id, ctx.request_id, details);
    }
    co_return before;
}

}  // namespace restinu::user
