#include "restinu/contracts/problems.hpp"

namespace restinu::contracts {

std::vector<rt::ProblemType> problemCatalogue() {
    namespace rp = rt::problems;
    namespace cp = problems;
    return {
        rp::kBadRequest,
        rp::kMalformedJson,
        rp::kValidation,
        rp::kUnauthorized,
        rp::kInvalidIdentity,
        rp::kForbidden,
        rp::kNotFound,
        rp::kMethodNotAllowed,
        rp::kConflict,
        rp::kInvalidQuery,
        rp::kPreconditionFailed,
        rp::kPreconditionRequired,
        rp::kPayloadTooLarge,
        rp::kUnsupportedMediaType,
        rp::kRangeNotSatisfiable,
        rp::kHeadersTooLarge,
        rp::kRateLimited,
        rp::kIdempotencyKeyRequired,
        rp::kIdempotencyKeyInUse,
        rp::kIdempotencyKeyReused,
        rp::kTooManyIdempotencyKeys,
        rp::kInternal,
        rp::kBadGateway,
        rp::kUnavailable,
        rp::kGatewayTimeout,
        cp::kInvalidCredentials,
        cp::kTooManyLoginAttempts,
        cp::kEmailTaken,
        cp::kInvalidRefreshToken,
        cp::kCannotDemoteSelf,
        cp::kLastAdmin,
        cp::kKycPending,
        cp::kKycAlreadyApproved,
        cp::kKycNotPending,
        cp::kKycDocumentInUse,
        cp::kInvalidStatusTransition,
        cp::kListingUnavailable,
        cp::kKycRequired,
        cp::kOfferNotPending,
        cp::kInvalidWebhook,
        cp::kInvalidLink,
        cp::kPreferenceLocked,
        cp::kTooManySavedSearches,
        cp::kImageUndecodable,
        cp::kImageTooManyPixels,
        cp::kTooManyImages,
        cp::kWalletExists,
        cp::kWalletChallengeInvalid,
        cp::kWalletChallengeExpired,
        cp::kWalletSignatureInvalid,
    };
}

}  // namespace restinu::contracts
