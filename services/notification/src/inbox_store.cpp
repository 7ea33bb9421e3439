#include "inbox_store.hpp"

#include <array>
#include <boost/json.hpp>

#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::notification {
namespace {

constexpr std::string_view kColumns =
    "id::text AS id, category, title, body, link, restinu_iso(created_at) AS created_at, "
    "read_at IS NOT NULL AS read";

std::vector<InboxItem> readItems(const rt::PgResult& r) {
    static constexpr std::array<std::string_view, 7> kNames = {
        "id", "category", "title", "body", "link", "created_at", "read"};
    const auto c = rt::requireColumns(r, kNames);
    std::vector<InboxItem> out;
    out.reserve(r.rows());
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back({std::string(r.get(i, c[0])), std::string(r.get(i, c[1])),
                       std::string(r.get(i, c[2])), std::string(r.get(i, c[3])),
                       std::string(r.get(i, c[4])), std::string(r.get(i, c[5])),
                       r.get(i, c[6]) == "t"});
    }
    return out;
}

}  // namespace

std::string InboxItem::json() const {
    return boost::json::serialize(boost::json::object{{"id", id},
                                                      {"category", category},
                                                      {"title", title},
                                                      {"body", body},
                                                      {"link", link},
                                                      {"created_at", created_at},
                                                      {"read", read}});
}

rt::Task<std::optional<InboxItem>> InboxStore::add(rt::PgConn& tx, const std::string& user_id,
                                                   const std::string& event_id,
                                                   const InboxItem& item) {
    const auto id = rt::newUuidV7();
    const std::string sql =
        "INSERT INTO notifications (id, user_id, event_id, category, title, body, link) "
        "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7) "
        "ON CONFLICT (event_id, user_id) DO NOTHING RETURNING " +
        std::string(kColumns);
    auto r = co_await tx.execute("notification_inbox_add", sql, id, user_id, event_id,
                                 item.category, item.title, item.body, item.link);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return readItems(r).front();
}

rt::Task<InboxPage> InboxStore::list(rt::PgPool& conn, const std::string& user_id,
                                     const std::optional<std::string>& before_id, bool unread_only,
                                     int limit) {
    const std::string sql = "SELECT " + std::string(kColumns) +
                            " FROM notifications WHERE user_id = $1::uuid "
                            "AND ($2::uuid IS NULL OR id < $2::uuid) "
                            "AND (NOT $3 OR read_at IS NULL) ORDER BY id DESC LIMIT $4";
    auto r = co_await conn.execute("notification_inbox_list", sql, user_id, before_id, unread_only,
                                   limit + 1);
    InboxPage page;
    page.items = readItems(r);
    if (page.items.size() > static_cast<std::size_t>(limit)) {
        page.items.pop_back();
        page.more = true;
    }
    auto u = co_await conn.execute(
        "notification_inbox_unread",
        "SELECT count(*) FROM notifications WHERE user_id = $1::uuid AND read_at IS NULL", user_id);
    page.unread = u.getInt(0, 0);
    co_return page;
}

rt::Task<bool> InboxStore::markRead(rt::PgPool& conn, const std::string& user_id,
                                    const std::string& id) {
    auto r = co_await conn.execute("notification_inbox_read",
                                   "UPDATE notifications SET read_at = coalesce(read_at, now()) "
                                   "WHERE id = $1::uuid AND user_id = $2::uuid",
                                   id, user_id);
    co_return r.affected() == 1;
}

rt::Task<std::int64_t> InboxStore::markAllRead(rt::PgPool& conn, const std::string& user_id) {
    auto r = co_await conn.execute(
        "notification_inbox_read_all",
        "UPDATE notifications SET read_at = now() WHERE user_id = $1::uuid AND read_at IS NULL",
        user_id);
    co_return static_cast<std::int64_t>(r.affected());
}

}  // namespace restinu::notification
