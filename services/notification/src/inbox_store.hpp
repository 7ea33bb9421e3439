#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// The in-app inbox: what a user's notifications page lists.
namespace restinu::notification {

struct InboxItem {
    std::string id;
    std::string category;
    std::string title;
    std::string body;
    std::string link;
    std::string created_at;  ///< RFC 3339 UTC
    bool read = false;
    /// The item as the API and the live stream show it (a JSON object).
    std::string json() const;
};

struct InboxPage {
    std::vector<InboxItem> items;
    std::int64_t unread = 0;
    bool more = false;  ///< another page follows the last item
};

class InboxStore {
public:
    /// Adds the item for `event_id` (its id, time and unread state are set here); nullopt when
    /// that event already put one in the user's inbox.
    static rt::Task<std::optional<InboxItem>> add(rt::PgConn& tx, const std::string& user_id,
                                                  const std::string& event_id,
                                                  const InboxItem& item);
    /// Newest first, after `before_id` (the last id of the previous page) when given.
    static rt::Task<InboxPage> list(rt::PgPool& conn, const std::string& user_id,
                                    const std::optional<std::string>& before_id, bool unread_only,
                                    int limit);
    /// Marks the user's item read; false when they have no such item.
    static rt::Task<bool> markRead(rt::PgPool& conn, const std::string& user_id,
                                   const std::string& id);
    /// Marks every item read; how many were unread.
    static rt::Task<std::int64_t> markAllRead(rt::PgPool& conn, const std::string& user_id);
};

}  // namespace restinu::notification
