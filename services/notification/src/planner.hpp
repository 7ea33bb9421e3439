#pragma once

#include <set>
#include <string>

#include "links.hpp"
#include "restinu/rt/task.hpp"
#include "templates.hpp"

namespace restinu::rt {
class PgConn;
struct Event;
}  // namespace restinu::rt

/// Turns platform events into messages: who is told what (a notice), then on which channels
/// (their preferences and what is configured) and in which words (templates). Runs in the event
/// consumer's transaction, so an event's messages are queued exactly once.
namespace restinu::notification {

/// One thing to tell one user.
struct Notice {
    std::string user_id;
    std::string category;
    std::string template_id;
    Vars vars;
    std::string link;  ///< where the in-app item and push lead; may be empty
};

class Planner {
public:
    /// `channels`: the channels with a provider configured (in_app always).
    Planner(const LinkSigner& links, std::set<std::string> channels, std::string app_url);

    /// Applies one event from the user or property streams; other types are ignored.
    rt::Task<void> apply(rt::PgConn& tx, const rt::Event& event) const;

    /// Queues `notice` on each channel it goes by, and the in-app item.
    rt::Task<void> notify(rt::PgConn& tx, const std::string& event_id, Notice notice) const;

private:
    rt::Task<void> listingChanged(rt::PgConn& tx, const rt::Event& event) const;

    const LinkSigner& links_;
    std::set<std::string> channels_;
    std::string app_url_;
};

/// "₹85,00,000" style for INR (Indian grouping), "USD 1,250.50" for others.
std::string formatPrice(std::int64_t minor, const std::string& currency);

}  // namespace restinu::notification
