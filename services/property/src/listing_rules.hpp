#pragma once

#include <string>
#include <string_view>

#include "listing_store.hpp"
#include "restinu/rt/http.hpp"

/// Who may see and change a listing, and how its version is named: one rule for the listing's
/// fields and its photos alike.
namespace restinu::property {

/// Anyone sees a listing in these statuses; a draft or withdrawn one only its owner and admins.
bool isPublic(std::string_view status);

/// The listing's ETag: its version, quoted.
std::string etagOf(int version);

/// Throws unless `who` owns the listing or is an admin: 404 `not-found` when they may not
/// even see it (a draft is not revealed), else 403 `forbidden` saying that only the owner or
/// an admin `what` ("changes a listing").
void requireOwnerOrAdmin(const StoredListing& s, const rt::Identity& who, std::string_view what);

}  // namespace restinu::property
