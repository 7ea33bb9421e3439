#pragma once

#include <optional>
#include <string>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
struct Event;
}  // namespace restinu::rt

/// The blockchain service's views of other services' events (migration 0005).
namespace restinu::blockchain {

/// property.created, .updated, .status_changed, .withdrawn: the listing as it is now.
rt::Task<void> applyListingEvent(rt::PgConn& tx, const rt::Event& event);
/// user.kyc.approved / .rejected: the user's latest decision.
rt::Task<void> applyKycEvent(rt::PgConn& tx, const rt::Event& event);

struct ListingView {
    std::string id;
    std::string owner_id;
    std::string status;
    std::string title;
    std::string description;
    std::string property_type;
    std::string city;
    std::string state;
    std::string country;
    int bedrooms = 0;
    int area_sqft = 0;
    std::string images_json;  ///< the listing's photos as stored (docs/images.md)
};

rt::Task<std::optional<ListingView>> findListing(rt::PgConn& conn, std::string id);
rt::Task<bool> kycApproved(rt::PgConn& conn, std::string user_id);

}  // namespace restinu::blockchain
