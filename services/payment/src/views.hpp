#pragma once

#include <optional>
#include <string>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
struct Event;
}  // namespace restinu::rt

/// The payment service's copies of what other services own, fed by their events (no call to
/// them on the request path): listings (property.*) and buyers' KYC decisions (user.kyc.*).
namespace restinu::payment {

rt::Task<void> applyListingEvent(rt::PgConn& tx, const rt::Event& event);
rt::Task<void> applyKycEvent(rt::PgConn& tx, const rt::Event& event);

struct ListingView {
    std::string id;
    std::string owner_id;
    std::string status;
    std::int64_t price_minor = 0;
    std::string currency;
    std::string title;
    std::string address;
    int version = 0;
    bool tokenized = false;  ///< its deed is on chain (the listing has a `token`)
};

rt::Task<std::optional<ListingView>> findListing(rt::PgConn& conn, const std::string& id);
/// True when the user's last KYC decision was an approval.
rt::Task<bool> kycApproved(rt::PgConn& conn, const std::string& user_id);

}  // namespace restinu::payment
