#pragma once

#include "links.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgPool;
}

/// The notification service's public API (api/openapi.yaml): the inbox, preferences, push
/// devices, saved searches, and the two signed links (verification, unsubscribe).
namespace restinu::notification {

class Handlers {
public:
    Handlers(rt::PgPool& pool, const LinkSigner& links, int saved_search_limit)
        : pool_(pool), links_(links), saved_search_limit_(saved_search_limit) {}

    rt::Task<rt::Response> list(rt::Request& req);
    rt::Task<rt::Response> markRead(rt::Request& req);
    rt::Task<rt::Response> markAllRead(rt::Request& req);
    rt::Task<rt::Response> preferences(rt::Request& req);
    rt::Task<rt::Response> setPreferences(rt::Request& req);
    rt::Task<rt::Response> addDevice(rt::Request& req);
    rt::Task<rt::Response> removeDevice(rt::Request& req);
    rt::Task<rt::Response> createSavedSearch(rt::Request& req);
    rt::Task<rt::Response> savedSearches(rt::Request& req);
    rt::Task<rt::Response> deleteSavedSearch(rt::Request& req);
    rt::Task<rt::Response> verifyEmail(rt::Request& req);
    rt::Task<rt::Response> unsubscribe(rt::Request& req);

private:
    rt::Task<rt::Response> preferencesOf(const std::string& user_id);

    rt::PgPool& pool_;
    const LinkSigner& links_;
    int saved_search_limit_;
};

}  // namespace restinu::notification
