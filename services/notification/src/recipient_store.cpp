#include "recipient_store.hpp"

#include <array>

#include "preferences.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::notification {

rt::Task<void> RecipientStore::upsert(rt::PgConn& tx, const Recipient& r) {
    co_await tx.execute("notification_recipient_upsert",
                        "INSERT INTO recipients (user_id, email, name, phone, language) "
                        "VALUES ($1::uuid, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET "
                        "email = EXCLUDED.email, name = EXCLUDED.name, phone = EXCLUDED.phone, "
                        "language = EXCLUDED.language, updated_at = now()",
                        r.user_id, r.email, r.name, r.phone, r.language);
}

rt::Task<std::optional<Recipient>> RecipientStore::find(rt::PgConn& tx,
                                                        const std::string& user_id) {
    auto r = co_await tx.execute(
        "notification_recipient_find",
        "SELECT email, name, phone, language FROM recipients WHERE user_id = $1::uuid", user_id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    static constexpr std::array<std::string_view, 4> kNames = {"email", "name", "phone",
                                                               "language"};
    const auto c = rt::requireColumns(r, kNames);
    Recipient out{user_id, std::string(r.get(0, c[0])), std::string(r.get(0, c[1])), std::nullopt,
                  std::string(r.get(0, c[3]))};
    if (auto phone = r.opt(0, c[2])) {
        out.phone = std::string(*phone);
    }
    co_return out;
}

rt::Task<std::set<std::string>> RecipientStore::channels(rt::PgConn& tx, const std::string& user_id,
                                                         const std::string& category) {
    auto r = co_await tx.execute(
        "notification_channels",
        "SELECT channel, enabled FROM preferences WHERE user_id = $1::uuid AND category = $2",
        user_id, category);
    std::set<std::string> out;
    for (auto ch : kChannels) {
        bool on = enabledByDefault(category, ch);
        for (std::size_t i = 0; i < r.rows(); ++i) {
            if (r.get(i, 0) == ch) {
                on = r.get(i, 1) == "t";
            }
        }
        if (on || locked(category, ch)) {
            out.emplace(ch);
        }
    }
    co_return out;
}

rt::Task<std::vector<Preference>> RecipientStore::switched(rt::PgPool& conn,
                                                           const std::string& user_id) {
    auto r = co_await conn.execute(
        "notification_preferences",
        "SELECT category, channel, enabled FROM preferences WHERE user_id = $1::uuid", user_id);
    std::vector<Preference> out;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back({std::string(r.get(i, 0)), std::string(r.get(i, 1)), r.get(i, 2) == "t"});
    }
    co_return out;
}

rt::Task<void> RecipientStore::set(rt::PgConn& tx, const std::string& user_id,
                                   const std::vector<Preference>& prefs) {
    for (const auto& p : prefs) {
        co_await tx.execute(
            "notification_preference_set",
            "INSERT INTO preferences (user_id, category, channel, enabled) "
            "VALUES ($1::uuid, $2, $3, $4) ON CONFLICT (user_id, category, channel) "
            "DO UPDATE SET enabled = EXCLUDED.enabled",
            user_id, p.category, p.channel, p.enabled);
    }
}

rt::Task<std::optional<std::string>> RecipientStore::latestDevice(rt::PgConn& tx,
                                                                  const std::string& user_id) {
    auto r = co_await tx.execute(
        "notification_latest_device",
        "SELECT token FROM devices WHERE user_id = $1::uuid ORDER BY created_at DESC LIMIT 1",
        user_id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return std::string(r.get(0, 0));
}

rt::Task<void> RecipientStore::addDevice(rt::PgPool& conn, const std::string& user_id,
                                         const std::string& token, const std::string& platform) {
    co_await conn.execute(
        "notification_add_device",
        "INSERT INTO devices (token, user_id, platform) VALUES ($1, $2::uuid, $3) "
        "ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, "
        "platform = EXCLUDED.platform, created_at = now()",
        token, user_id, platform);
}

rt::Task<bool> RecipientStore::removeDevice(rt::PgPool& conn, const std::string& user_id,
                                            const std::string& token) {
    auto r = co_await conn.execute("notification_remove_device",
                                   "DELETE FROM devices WHERE token = $1 AND user_id = $2::uuid",
                                   token, user_id);
    co_return r.affected() == 1;
}

}  // namespace restinu::notification
