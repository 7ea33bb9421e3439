#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/// The event contracts between services: each event type's data as a struct that producers
/// build and consumers parse, compiled by both, so a field renamed on one side is a build
/// error on the other, not a silent null. Belongs to no service. docs/events.md is checked
/// against catalogue() by contracts/src/events_test.cpp.
namespace restinu::contracts {

/// Event data that does not match its contract (a missing or mistyped field).
class ContractError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One event type: its name, its aggregate (the stream events:<aggregate>) and its data fields.
struct EventInfo {
    std::string_view type;
    std::string_view aggregate;
    std::vector<std::string_view> fields;
};

/// Every event type of the platform.
const std::vector<EventInfo>& catalogue();

// --- user (aggregate id: the user's id; "unknown" for a failed login of an unknown e-mail) ---

struct UserRegistered {
    static constexpr std::string_view kType = "user.registered";
    std::string user_id;
    std::string email;
    std::string role;
    std::string name;             ///< may be empty; absent in events before issue 18
    std::string language = "en";  ///< BCP 47 primary tag the user reads
    std::string data() const;
    static UserRegistered parse(std::string_view data);
};

struct UserLoginFailed {
    static constexpr std::string_view kType = "user.login_failed";
    std::optional<std::string> user_id;  ///< null for an unknown e-mail
    std::string ip;                      ///< the client's address as the gateway signed it
    std::string reason;
    std::string data() const;
    static UserLoginFailed parse(std::string_view data);
};

/// A sign-in from a device (User-Agent) and address pair none of the account's sessions had.
struct UserNewDevice {
    static constexpr std::string_view kType = "user.login.new_device";
    std::string user_id;
    std::string device;  ///< the User-Agent, at most 200 characters
    std::string ip;      ///< the client's address as the gateway signed it
    std::string data() const;
    static UserNewDevice parse(std::string_view data);
};

/// The profile fields other services keep a copy of, after a change.
struct UserProfileChanged {
    static constexpr std::string_view kType = "user.profile_changed";
    std::string user_id;
    std::string email;
    std::string name;
    std::optional<std::string> phone;  ///< E.164, or null
    std::string language;
    std::string data() const;
    static UserProfileChanged parse(std::string_view data);
};

struct UserRoleChanged {
    static constexpr std::string_view kType = "user.role_changed";
    std::string user_id;
    std::string role;
    std::string previous_role;
    std::string changed_by;
    std::string data() const;
    static UserRoleChanged parse(std::string_view data);
};

struct KycSubmitted {
    static constexpr std::string_view kType = "user.kyc.submitted";
    std::string user_id;
    std::string document_type;
    std::string data() const;
    static KycSubmitted parse(std::string_view data);
};

/// user.kyc.approved (no reason) or user.kyc.rejected (with one).
struct KycDecided {
    static constexpr std::string_view kApproved = "user.kyc.approved";
    static constexpr std::string_view kRejected = "user.kyc.rejected";
    bool approved = false;
    std::string user_id;
    std::string decided_by;
    std::string reason;  ///< rejected only
    std::string_view type() const { return approved ? kApproved : kRejected; }
    std::string data() const;
    static KycDecided parse(std::string_view type, std::string_view data);
};

// --- property (aggregate id: the listing's id) ---

/// property.created, .updated, .status_changed or .withdrawn: the whole row after the change.
struct PropertyChanged {
    static constexpr std::string_view kCreated = "property.created";
    static constexpr std::string_view kUpdated = "property.updated";
    static constexpr std::string_view kStatusChanged = "property.status_changed";
    static constexpr std::string_view kWithdrawn = "property.withdrawn";
    std::string listing_json;  ///< the listing row as a JSON object (the write model's columns)
    std::int64_t version = 0;
    std::string from;  ///< status before (status_changed, withdrawn), else empty
    std::string to;    ///< status after (status_changed, withdrawn), else empty
    std::string data() const;
    static PropertyChanged parse(std::string_view data);
    /// True for the four types above (a consumer of the property stream sees image events too).
    static bool carries(std::string_view type) {
        return type == kCreated || type == kUpdated || type == kStatusChanged || type == kWithdrawn;
    }
};

/// property.image_added, .image_removed or .images_reordered: one photo of a listing, and the
/// listing's version after the change (its photos are part of it).
struct PropertyImageChanged {
    static constexpr std::string_view kAdded = "property.image_added";
    static constexpr std::string_view kRemoved = "property.image_removed";
    static constexpr std::string_view kReordered = "property.images_reordered";
    std::string listing_id;
    std::string image_id;       ///< empty for images_reordered
    std::string sha256;         ///< the uploaded file's SHA-256 (its renditions are named by it)
    std::int64_t position = 0;  ///< 0-based place in the listing's photos (added, removed)
    std::int64_t version = 0;   ///< the listing's version after the change
    std::string data() const;
    static PropertyImageChanged parse(std::string_view data);
};

/// property.vastu_certified: a Vastu certificate issued for a listing (any earlier one is
/// superseded by it), and the listing's version after the change.
struct VastuCertified {
    static constexpr std::string_view kType = "property.vastu_certified";
    std::string listing_id;
    std::string certificate_id;
    std::int64_t score = 0;  ///< 0-100
    std::string grade;
    std::string superseded;  ///< the certificate it replaces, or empty
    std::int64_t version = 0;
    std::string data() const;
    static VastuCertified parse(std::string_view data);
};

// --- payment (aggregate ids: the offer's id, the purchase's id) ---

/// offer.made, .accepted, .rejected or .lapsed: the offer as it is after the change.
struct OfferChanged {
    static constexpr std::string_view kMade = "offer.made";
    static constexpr std::string_view kAccepted = "offer.accepted";
    static constexpr std::string_view kRejected = "offer.rejected";
    static constexpr std::string_view kLapsed = "offer.lapsed";
    std::string offer_id;
    std::string listing_id;
    std::string buyer_id;
    std::string seller_id;
    std::int64_t amount = 0;  ///< minor units
    std::string currency;
    std::string purchase_id;  ///< accepted only, else empty
    std::string data() const;
    static OfferChanged parse(std::string_view data);
};

/// purchase.completed or purchase.failed (with the reason the saga compensated for).
struct PurchaseEnded {
    static constexpr std::string_view kCompleted = "purchase.completed";
    static constexpr std::string_view kFailed = "purchase.failed";
    std::string purchase_id;
    std::string listing_id;
    std::string buyer_id;
    std::string seller_id;
    std::int64_t price = 0;  ///< minor units
    std::string currency;
    std::string reason;  ///< failed only
    std::string data() const;
    static PurchaseEnded parse(std::string_view data);
};

// --- notification (aggregate id: the user's id) ---

/// The owner of an address followed the signed link of a verification e-mail.
struct EmailVerified {
    static constexpr std::string_view kType = "notification.email_verified";
    std::string user_id;
    std::string email;  ///< the address the link was sent to (the account may have changed since)
    std::string data() const;
    static EmailVerified parse(std::string_view data);
};

// --- blockchain (aggregate id: the transaction's id) ---

/// investment.completed (the shares delivered and the hold captured) or investment.failed
/// (nothing delivered, the hold released; `reason` says why). Aggregate id: the investment's.
struct InvestmentEnded {
    static constexpr std::string_view kCompleted = "investment.completed";
    static constexpr std::string_view kFailed = "investment.failed";
    std::string investment_id;
    std::string property_id;
    std::string investor_id;
    std::int64_t shares = 0;
    std::int64_t amount = 0;  ///< minor units
    std::string currency;
    std::string reason;  ///< failed only
    std::string data() const;
    static InvestmentEnded parse(std::string_view data);
};

/// chain.tx.confirmed, .replaced or .failed: a transaction the blockchain service sent, by its
/// business key (purpose, reference), so the saga step that asked for it can go on.
struct ChainTxChanged {
    /// Mined, succeeded, and `chain.confirmations` blocks deep.
    static constexpr std::string_view kConfirmed = "chain.tx.confirmed";
    /// Stuck: re-signed at the same nonce with a higher fee.
    static constexpr std::string_view kReplaced = "chain.tx.replaced";
    /// Mined and reverted, as deep as a confirmation.
    static constexpr std::string_view kFailed = "chain.tx.failed";
    std::string tx_id;
    std::string purpose;
    std::string reference;
    std::string signer;  ///< 0x lower-case address
    std::int64_t nonce = 0;
    std::string hash;           ///< 0x hex: the version mined (confirmed, failed) or the new one
    std::string replaced_hash;  ///< replaced only: the version it replaces
    std::int64_t block_number = 0;  ///< confirmed, failed; else 0
    std::string contract_address;   ///< a confirmed creation's contract, else empty
    std::string data() const;
    static ChainTxChanged parse(std::string_view data);
};

// --- chain: what the blockchain service's indexer saw on the chain, written once the block is
// `confirmations` deep (IndexerSettings) (aggregate id: the contract's address, 0x lower-case).
// Token amounts and ids are decimal strings: they can exceed 2^63. Each carries the log's place
// (block_number, block_hash, tx_hash, log_index), unique per event.

/// Where an indexed log is, and which contract and property it belongs to.
struct ChainLogRef {
    std::string contract;     ///< 0x lower-case
    std::string property_id;  ///< the property the contract is for, or empty (null in the data)
    std::int64_t block_number = 0;
    std::string block_hash;
    std::string tx_hash;
    std::int64_t log_index = 0;
};

/// deed.minted: a property's deed NFT was minted.
struct DeedMinted {
    static constexpr std::string_view kType = "deed.minted";
    ChainLogRef at;
    std::string token_id;  ///< decimal
    std::string owner;     ///< 0x lower-case
    std::string uri;       ///< tokenURI ("ipfs://<cid>"), or empty when it could not be read
    std::string data() const;
    static DeedMinted parse(std::string_view data);
};

/// shares.transferred: shares moved (the initial mint comes from the zero address; a recovery
/// is a transfer too).
struct SharesTransferred {
    static constexpr std::string_view kType = "shares.transferred";
    ChainLogRef at;
    std::string from;    ///< 0x lower-case
    std::string to;      ///< 0x lower-case
    std::string amount;  ///< decimal, whole shares
    std::string data() const;
    static SharesTransferred parse(std::string_view data);
};

/// rent.deposited: rent paid into a shares contract, split over the shares at that moment.
struct RentDeposited {
    static constexpr std::string_view kType = "rent.deposited";
    ChainLogRef at;
    std::string by;      ///< the depositor, 0x lower-case
    std::string amount;  ///< decimal, payment token minor units
    std::string data() const;
    static RentDeposited parse(std::string_view data);
};

/// dividend.claimed: a holder claimed its rent.
struct DividendClaimed {
    static constexpr std::string_view kType = "dividend.claimed";
    ChainLogRef at;
    std::string holder;  ///< 0x lower-case
    std::string amount;  ///< decimal, payment token minor units
    std::string data() const;
    static DividendClaimed parse(std::string_view data);
};

/// property.tokenized: a listing's deed is minted and its shares contract deployed
/// (docs/blockchain.md, "Tokenize"); the listing shows them.
struct PropertyTokenized {
    static constexpr std::string_view kType = "property.tokenized";
    std::string listing_id;
    std::string deed_contract;    ///< EIP-55
    std::string token_id;         ///< the deed's id, decimal
    std::string shares_contract;  ///< EIP-55
    std::string symbol;
    std::int64_t total_shares = 0;
    std::int64_t price_minor = 0;  ///< per share
    std::string currency;
    std::string metadata_uri;  ///< ipfs://<CID>
    std::string data() const;
    static PropertyTokenized parse(std::string_view data);
};

/// The aggregate types (stream names events:<aggregate>).
inline constexpr std::string_view kUserAggregate = "user";
inline constexpr std::string_view kPropertyAggregate = "property";
inline constexpr std::string_view kOfferAggregate = "offer";
inline constexpr std::string_view kPurchaseAggregate = "purchase";
inline constexpr std::string_view kNotificationAggregate = "notification";
inline constexpr std::string_view kChainTxAggregate = "chain_tx";
inline constexpr std::string_view kTokenizationAggregate = "tokenization";
inline constexpr std::string_view kChainAggregate = "chain";
inline constexpr std::string_view kInvestmentAggregate = "investment";

}  // namespace restinu::contracts
