#include "listing_rules.hpp"

#include "restinu/rt/problem.hpp"

namespace restinu::property {

bool isPublic(std::string_view status) {
    return status == "active" || status == "reserved" || status == "sold";
}

std::string etagOf(int version) {
    return "\"" + std::to_string(version) + "\"";
}

void requireOwnerOrAdmin(const StoredListing& s, const rt::Identity& who, std::string_view what) {
    if (s.owner_id == who.user_id || who.hasRole("admin")) {
        return;
    }
    if (!isPublic(s.listing.status)) {
        throw rt::ApiError(rt::problems::kNotFound, "no such listing");
    }
    throw rt::ApiError(rt::problems::kForbidden, "only the owner or an admin " + std::string(what));
}

}  // namespace restinu::property
