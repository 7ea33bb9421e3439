#pragma once

#include <vector>

#include "restinu/rt/problem.hpp"

/// The problem types the services answer with beyond the runtime's own (rt::problems): part of
/// the public API, so they live here, in no single service. docs/problems.md lists every type
/// of the catalogue below, with its status; a test checks both ways, and that no problem type
/// is defined anywhere else in the source.
namespace restinu::contracts::problems {

// user service
inline constexpr rt::ProblemType kInvalidCredentials{"invalid-credentials",
                                                     "E-mail or password is wrong", 401};
inline constexpr rt::ProblemType kTooManyLoginAttempts{"too-many-login-attempts",
                                                       "Too many failed logins", 429};
inline constexpr rt::ProblemType kEmailTaken{"email-taken", "An account with this e-mail exists",
                                             409};
inline constexpr rt::ProblemType kInvalidRefreshToken{"invalid-refresh-token",
                                                      "The refresh token is not valid", 401};
inline constexpr rt::ProblemType kCannotDemoteSelf{"cannot-demote-self",
                                                   "An admin cannot demote themselves", 409};
inline constexpr rt::ProblemType kLastAdmin{"last-admin", "The last admin cannot be demoted", 409};
inline constexpr rt::ProblemType kKycPending{"kyc-pending", "A KYC submission is awaiting review",
                                             409};
inline constexpr rt::ProblemType kKycAlreadyApproved{"kyc-already-approved",
                                                     "KYC is already approved", 409};
inline constexpr rt::ProblemType kKycNotPending{"kyc-not-pending",
                                                "No KYC submission awaits review", 409};
inline constexpr rt::ProblemType kKycDocumentInUse{"kyc-document-in-use",
                                                   "This document is used by another account", 409};

// gateway (the web app's session cookie)
inline constexpr rt::ProblemType kCsrfFailed{
    "csrf-failed", "The request's X-CSRF-Token does not match its cookie", 403};

// property service
inline constexpr rt::ProblemType kInvalidStatusTransition{
    "invalid-status-transition", "The listing cannot move to that status", 409};
inline constexpr rt::ProblemType kListingUnavailable{"listing-unavailable",
                                                     "The listing cannot be bought now", 409};

// payment service
inline constexpr rt::ProblemType kKycRequired{"kyc-required", "Approved KYC is required for this",
                                              403};
inline constexpr rt::ProblemType kPaymentDeclined{"payment-declined",
                                                  "The payment method was declined", 402};
inline constexpr rt::ProblemType kOfferNotPending{"offer-not-pending",
                                                  "The offer was already decided or lapsed", 409};
inline constexpr rt::ProblemType kInvalidWebhook{"invalid-webhook",
                                                 "The webhook's signature does not verify", 400};

// notification service
inline constexpr rt::ProblemType kInvalidLink{
    "invalid-link", "The link is not one of ours, was changed, or has expired", 400};
inline constexpr rt::ProblemType kPreferenceLocked{"preference-locked",
                                                   "Security messages cannot be switched off", 422};
inline constexpr rt::ProblemType kTooManySavedSearches{
    "too-many-saved-searches", "The account has as many saved searches as it may keep", 409};

// property images
inline constexpr rt::ProblemType kImageUndecodable{
    "image-undecodable", "The upload is not a JPEG, PNG or WebP image that can be decoded", 422};
inline constexpr rt::ProblemType kImageTooManyPixels{
    "image-too-many-pixels", "The image has more pixels than a photo may have", 422};
inline constexpr rt::ProblemType kTooManyImages{
    "too-many-images", "The listing has as many photos as it may keep", 409};

// blockchain wallets
inline constexpr rt::ProblemType kWalletExists{
    "wallet-exists", "The account has a wallet, or the address is another account's", 409};
inline constexpr rt::ProblemType kWalletChallengeInvalid{
    "wallet-challenge-invalid", "The message is not an open challenge issued to this account", 422};
inline constexpr rt::ProblemType kWalletChallengeExpired{"wallet-challenge-expired",
                                                         "The wallet challenge has expired", 422};
inline constexpr rt::ProblemType kWalletSignatureInvalid{
    "wallet-signature-invalid", "The signature is not by the message's address", 422};

// blockchain investments and rent
inline constexpr rt::ProblemType kWalletRequired{
    "wallet-required", "The account needs a wallet (linked or custodial) first", 409};
inline constexpr rt::ProblemType kSharesUnavailable{
    "shares-unavailable", "Fewer shares are left for sale than asked for", 409};
inline constexpr rt::ProblemType kNothingToClaim{"nothing-to-claim", "There is no rent to claim",
                                                 409};

}  // namespace restinu::contracts::problems

namespace restinu::contracts {

/// Every problem type of the platform: the runtime's and the services'.
std::vector<rt::ProblemType> problemCatalogue();

}  // namespace restinu::contracts
