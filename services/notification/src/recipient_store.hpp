#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// Whom the service reaches and how: recipients (from the user service's events), their push
/// devices and their preferences.
namespace restinu::notification {

struct Recipient {
    std::string user_id;
    std::string email;
    std::string name;
    std::optional<std::string> phone;
    std::string language = "en";
};

/// One switched preference.
struct Preference {
    std::string category;
    std::string channel;
    bool enabled = true;
};

class RecipientStore {
public:
    /// Inserts or replaces what is known of the user (an older copy never overwrites).
    static rt::Task<void> upsert(rt::PgConn& tx, const Recipient& r);
    static rt::Task<std::optional<Recipient>> find(rt::PgConn& tx, const std::string& user_id);

    /// The channels `category` reaches the user on (defaults, their switches, locks applied).
    static rt::Task<std::set<std::string>> channels(rt::PgConn& tx, const std::string& user_id,
                                                    const std::string& category);
    /// The user's switched preferences.
    static rt::Task<std::vector<Preference>> switched(rt::PgPool& conn, const std::string& user_id);
    /// Stores each preference (caller checked locks and names).
    static rt::Task<void> set(rt::PgConn& tx, const std::string& user_id,
                              const std::vector<Preference>& prefs);

    /// The user's most recently registered push token, if any.
    static rt::Task<std::optional<std::string>> latestDevice(rt::PgConn& tx,
                                                             const std::string& user_id);
    /// Registers a push token for the user (a token moves to whoever registers it last).
    static rt::Task<void> addDevice(rt::PgPool& conn, const std::string& user_id,
                                    const std::string& token, const std::string& platform);
    /// Forgets the user's token; false when it is not theirs.
    static rt::Task<bool> removeDevice(rt::PgPool& conn, const std::string& user_id,
                                       const std::string& token);
};

}  // namespace restinu::notification
