#include "restinu/contracts/events.hpp"

#include <boost/json.hpp>

namespace restinu::contracts {
namespace {

namespace json = boost::json;

json::object object(std::string_view data, std::string_view type) {
    json::error_code ec;
    auto v = json::parse(data, ec);
    if (ec || !v.is_object()) {
        throw ContractError(std::string(type) + ": data is not a JSON object");
    }
    return std::move(v.as_object());
}

std::string str(const json::object& o, std::string_view key, std::string_view type) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        throw ContractError(std::string(type) + ": \"" + std::string(key) +
                            "\" is missing or not a string");
    }
    return std::string(v->as_string());
}

std::optional<std::string> optStr(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->as_string());
}

std::int64_t int64(const json::object& o, std::string_view key, std::string_view type) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_int64()) {
        throw ContractError(std::string(type) + ": \"" + std::string(key) +
                            "\" is missing or not an integer");
    }
    return v->as_int64();
}

const std::vector<std::string_view> kOfferFields = {"offer_id",  "listing_id", "buyer_id",
                                                    "seller_id", "amount",     "currency"};
const std::vector<std::string_view> kOfferFieldsAccepted = {
    "offer_id", "listing_id", "buyer_id", "seller_id", "amount", "currency", "purchase_id"};
const std::vector<std::string_view> kInvestmentFields = {
    "investment_id", "property_id", "investor_id", "shares", "amount", "currency"};
const std::vector<std::string_view> kInvestmentFieldsFailed = {
    "investment_id", "property_id", "investor_id", "shares", "amount", "currency", "reason"};
const std::vector<std::string_view> kPurchaseFields = {"purchase_id", "listing_id", "buyer_id",
                                                       "seller_id",   "price",      "currency"};
const std::vector<std::string_view> kPurchaseFieldsFailed = {
    "purchase_id", "listing_id", "buyer_id", "seller_id", "price", "currency", "reason"};

const std::vector<std::string_view> kChainTxFieldsMined = {
    "tx_id", "purpose", "reference", "signer", "nonce", "hash", "block_number"};
const std::vector<std::string_view> kChainTxFieldsReplaced = {
    "tx_id", "purpose", "reference", "signer", "nonce", "hash", "replaced_hash"};

const std::vector<std::string_view> kChainRefFields = {"contract",   "property_id", "block_number",
                                                       "block_hash", "tx_hash",     "log_index"};

std::vector<std::string_view> chainFields(std::initializer_list<std::string_view> own) {
    std::vector<std::string_view> out = kChainRefFields;
    out.insert(out.end(), own.begin(), own.end());
    return out;
}

void putRef(json::object& o, const ChainLogRef& at) {
    o["contract"] = at.contract;
    o["property_id"] = at.property_id.empty() ? json::value(nullptr) : json::value(at.property_id);
    o["block_number"] = at.block_number;
    o["block_hash"] = at.block_hash;
    o["tx_hash"] = at.tx_hash;
    o["log_index"] = at.log_index;
}

ChainLogRef ref(const json::object& o, std::string_view type) {
    return {str(o, "contract", type),       optStr(o, "property_id").value_or(""),
            int64(o, "block_number", type), str(o, "block_hash", type),
            str(o, "tx_hash", type),        int64(o, "log_index", type)};
}

}  // namespace

const std::vector<EventInfo>& catalogue() {
    static const std::vector<EventInfo> kAll{
        {UserRegistered::kType, kUserAggregate, {"user_id", "email", "role", "name", "language"}},
        {UserNewDevice::kType, kUserAggregate, {"user_id", "device", "ip"}},
        {UserProfileChanged::kType,
         kUserAggregate,
         {"user_id", "email", "name", "phone", "language"}},
        {UserLoginFailed::kType, kUserAggregate, {"user_id", "ip", "reason"}},
        {UserRoleChanged::kType,
         kUserAggregate,
         {"user_id", "role", "previous_role", "changed_by"}},
        {KycSubmitted::kType, kUserAggregate, {"user_id", "document_type"}},
        {KycDecided::kApproved, kUserAggregate, {"user_id", "decided_by"}},
        {KycDecided::kRejected, kUserAggregate, {"user_id", "decided_by", "reason"}},
        {PropertyChanged::kCreated, kPropertyAggregate, {"listing", "version"}},
        {PropertyChanged::kUpdated, kPropertyAggregate, {"listing", "version"}},
        {PropertyChanged::kStatusChanged, kPropertyAggregate, {"listing", "version", "from", "to"}},
        {PropertyChanged::kWithdrawn, kPropertyAggregate, {"listing", "version", "from", "to"}},
        {PropertyImageChanged::kAdded,
         kPropertyAggregate,
         {"listing_id", "image_id", "sha256", "position", "version"}},
        {PropertyImageChanged::kRemoved,
         kPropertyAggregate,
         {"listing_id", "image_id", "sha256", "position", "version"}},
        {PropertyImageChanged::kReordered, kPropertyAggregate, {"listing_id", "version"}},
        {VastuCertified::kType,
         kPropertyAggregate,
         {"listing_id", "certificate_id", "score", "grade", "version"}},
        {OfferChanged::kMade, kOfferAggregate, kOfferFields},
        {OfferChanged::kAccepted, kOfferAggregate, kOfferFieldsAccepted},
        {OfferChanged::kRejected, kOfferAggregate, kOfferFields},
        {OfferChanged::kLapsed, kOfferAggregate, kOfferFields},
        {PurchaseEnded::kCompleted, kPurchaseAggregate, kPurchaseFields},
        {PurchaseEnded::kFailed, kPurchaseAggregate, kPurchaseFieldsFailed},
        {EmailVerified::kType, kNotificationAggregate, {"user_id", "email"}},
        {PropertyTokenized::kType,
         kTokenizationAggregate,
         {"listing_id", "deed_contract", "token_id", "shares_contract", "symbol", "total_shares",
          "price_minor", "currency", "metadata_uri"}},
        {ChainTxChanged::kConfirmed, kChainTxAggregate, kChainTxFieldsMined},
        {ChainTxChanged::kReplaced, kChainTxAggregate, kChainTxFieldsReplaced},
        {ChainTxChanged::kFailed, kChainTxAggregate, kChainTxFieldsMined},
        {DeedMinted::kType, kChainAggregate, chainFields({"token_id", "owner", "uri"})},
        {SharesTransferred::kType, kChainAggregate, chainFields({"from", "to", "amount"})},
        {RentDeposited::kType, kChainAggregate, chainFields({"by", "amount"})},
        {DividendClaimed::kType, kChainAggregate, chainFields({"holder", "amount"})},
        {InvestmentEnded::kCompleted, kInvestmentAggregate, kInvestmentFields},
        {InvestmentEnded::kFailed, kInvestmentAggregate, kInvestmentFieldsFailed},
    };
    return kAll;
}

std::string UserRegistered::data() const {
    return json::serialize(json::object{{"user_id", user_id},
                                        {"email", email},
                                        {"role", role},
                                        {"name", name},
                                        {"language", language}});
}

UserRegistered UserRegistered::parse(std::string_view data) {
    auto o = object(data, kType);
    return {str(o, "user_id", kType), str(o, "email", kType), str(o, "role", kType),
            optStr(o, "name").value_or(""), optStr(o, "language").value_or("en")};
}

std::string UserNewDevice::data() const {
    return json::serialize(json::object{{"user_id", user_id}, {"device", device}, {"ip", ip}});
}

UserNewDevice UserNewDevice::parse(std::string_view data) {
    auto o = object(data, kType);
    return {str(o, "user_id", kType), str(o, "device", kType), str(o, "ip", kType)};
}

std::string UserProfileChanged::data() const {
    return json::serialize(
        json::object{{"user_id", user_id},
                     {"email", email},
                     {"name", name},
                     {"phone", phone ? json::value(*phone) : json::value(nullptr)},
                     {"language", language}});
}

UserProfileChanged UserProfileChanged::parse(std::string_view data) {
    auto o = object(data, kType);
    return {str(o, "user_id", kType), str(o, "email", kType), str(o, "name", kType),
            optStr(o, "phone"), str(o, "language", kType)};
}

std::string EmailVerified::data() const {
    return json::serialize(json::object{{"user_id", user_id}, {"email", email}});
}

EmailVerified EmailVerified::parse(std::string_view data) {
    auto o = object(data, kType);
    return {str(o, "user_id", kType), str(o, "email", kType)};
}

std::string UserLoginFailed::data() const {
    return json::serialize(
        json::object{{"user_id", user_id ? json::value(*user_id) : json::value(nullptr)},
                     {"ip", ip},
                     {"reason", reason}});
}

UserLoginFailed UserLoginFailed::parse(std::string_view data) {
    auto o = object(data, kType);
    return {optStr(o, "user_id"), str(o, "ip", kType), str(o, "reason", kType)};
}

std::string UserRoleChanged::data() const {
    return json::serialize(json::object{{"user_id", user_id},
                                        {"role", role},
                                        {"previous_role", previous_role},
                                        {"changed_by", changed_by}});
}

UserRoleChanged UserRoleChanged::parse(std::string_view data) {
    auto o = object(data, kType);
    return {str(o, "user_id", kType), str(o, "role", kType), str(o, "previous_role", kType),
            str(o, "changed_by", kType)};
}

std::string KycSubmitted::data() const {
    return json::serialize(json::object{{"user_id", user_id}, {"document_type", document_type}});
}

KycSubmitted KycSubmitted::parse(std::string_view data) {
    auto o = object(data, kType);
    return {str(o, "user_id", kType), str(o, "document_type", kType)};
}

std::string KycDecided::data() const {
    json::object o{{"user_id", user_id}, {"decided_by", decided_by}};
    if (!approved) {
        o["reason"] = reason;
    }
    return json::serialize(o);
}

KycDecided KycDecided::parse(std::string_view type, std::string_view data) {
    if (type != kApproved && type != kRejected) {
        throw ContractError(std::string(type) + ": not a KYC decision");
    }
    auto o = object(data, type);
    KycDecided d;
    d.approved = type == kApproved;
    d.user_id = str(o, "user_id", type);
    d.decided_by = str(o, "decided_by", type);
    if (!d.approved) {
        d.reason = str(o, "reason", type);
    }
    return d;
}

std::string PropertyChanged::data() const {
    json::error_code ec;
    auto listing = json::parse(listing_json, ec);
    if (ec || !listing.is_object()) {
        throw ContractError("property event: the listing is not a JSON object");
    }
    json::object o{{"listing", std::move(listing)}, {"version", version}};
    if (!from.empty()) {
        o["from"] = from;
        o["to"] = to;
    }
    return json::serialize(o);
}

PropertyChanged PropertyChanged::parse(std::string_view data) {
    auto o = object(data, "property event");
    const auto* listing = o.if_contains("listing");
    const auto* version = o.if_contains("version");
    if (listing == nullptr || !listing->is_object() || version == nullptr || !version->is_int64()) {
        throw ContractError(R"(property event: "listing" (an object) and "version" are required)");
    }
    PropertyChanged p;
    p.listing_json = json::serialize(*listing);
    p.version = version->as_int64();
    p.from = optStr(o, "from").value_or("");
    p.to = optStr(o, "to").value_or("");
    return p;
}

std::string PropertyImageChanged::data() const {
    json::object o{{"listing_id", listing_id}, {"version", version}};
    if (!image_id.empty()) {
        o["image_id"] = image_id;
        o["sha256"] = sha256;
        o["position"] = position;
    }
    return json::serialize(o);
}

PropertyImageChanged PropertyImageChanged::parse(std::string_view data) {
    constexpr std::string_view kType = "property image event";
    auto o = object(data, kType);
    PropertyImageChanged p;
    p.listing_id = str(o, "listing_id", kType);
    p.version = int64(o, "version", kType);
    p.image_id = optStr(o, "image_id").value_or("");
    if (!p.image_id.empty()) {
        p.sha256 = str(o, "sha256", kType);
        p.position = int64(o, "position", kType);
    }
    return p;
}

std::string VastuCertified::data() const {
    json::object o{{"listing_id", listing_id},
                   {"certificate_id", certificate_id},
                   {"score", score},
                   {"grade", grade},
                   {"version", version}};
    if (!superseded.empty()) {
        o["superseded"] = superseded;
    }
    return json::serialize(o);
}

VastuCertified VastuCertified::parse(std::string_view data) {
    constexpr std::string_view kType = "vastu event";
    auto o = object(data, kType);
    VastuCertified v;
    v.listing_id = str(o, "listing_id", kType);
    v.certificate_id = str(o, "certificate_id", kType);
    v.score = int64(o, "score", kType);
    v.grade = str(o, "grade", kType);
    v.superseded = optStr(o, "superseded").value_or("");
    v.version = int64(o, "version", kType);
    return v;
}

std::string OfferChanged::data() const {
    json::object o{{"offer_id", offer_id},   {"listing_id", listing_id}, {"buyer_id", buyer_id},
                   {"seller_id", seller_id}, {"amount", amount},         {"currency", currency}};
    if (!purchase_id.empty()) {
        o["purchase_id"] = purchase_id;
    }
    return json::serialize(o);
}

OfferChanged OfferChanged::parse(std::string_view data) {
    constexpr std::string_view kType = "offer event";
    auto o = object(data, kType);
    return {str(o, "offer_id", kType),
            str(o, "listing_id", kType),
            str(o, "buyer_id", kType),
            str(o, "seller_id", kType),
            int64(o, "amount", kType),
            str(o, "currency", kType),
            optStr(o, "purchase_id").value_or("")};
}

std::string PurchaseEnded::data() const {
    json::object o{
        {"purchase_id", purchase_id}, {"listing_id", listing_id}, {"buyer_id", buyer_id},
        {"seller_id", seller_id},     {"price", price},           {"currency", currency}};
    if (!reason.empty()) {
        o["reason"] = reason;
    }
    return json::serialize(o);
}

PurchaseEnded PurchaseEnded::parse(std::string_view data) {
    constexpr std::string_view kType = "purchase event";
    auto o = object(data, kType);
    return {str(o, "purchase_id", kType),    str(o, "listing_id", kType), str(o, "buyer_id", kType),
            str(o, "seller_id", kType),      int64(o, "price", kType),    str(o, "currency", kType),
            optStr(o, "reason").value_or("")};
}

std::string InvestmentEnded::data() const {
    json::object o{{"investment_id", investment_id},
                   {"property_id", property_id},
                   {"investor_id", investor_id},
                   {"shares", shares},
                   {"amount", amount},
                   {"currency", currency}};
    if (!reason.empty()) {
        o["reason"] = reason;
    }
    return json::serialize(o);
}

InvestmentEnded InvestmentEnded::parse(std::string_view data) {
    constexpr std::string_view kType = "investment event";
    auto o = object(data, kType);
    return {str(o, "investment_id", kType),  str(o, "property_id", kType),
            str(o, "investor_id", kType),    int64(o, "shares", kType),
            int64(o, "amount", kType),       str(o, "currency", kType),
            optStr(o, "reason").value_or("")};
}

std::string ChainTxChanged::data() const {
    json::object o{{"tx_id", tx_id},   {"purpose", purpose}, {"reference", reference},
                   {"signer", signer}, {"nonce", nonce},     {"hash", hash}};
    if (!replaced_hash.empty()) {
        o["replaced_hash"] = replaced_hash;
    } else {
        o["block_number"] = block_number;
    }
    if (!contract_address.empty()) {
        o["contract_address"] = contract_address;
    }
    return json::serialize(o);
}

ChainTxChanged ChainTxChanged::parse(std::string_view data) {
    constexpr std::string_view kType = "chain transaction event";
    auto o = object(data, kType);
    ChainTxChanged c;
    c.tx_id = str(o, "tx_id", kType);
    c.purpose = str(o, "purpose", kType);
    c.reference = str(o, "reference", kType);
    c.signer = str(o, "signer", kType);
    c.nonce = int64(o, "nonce", kType);
    c.hash = str(o, "hash", kType);
    c.replaced_hash = optStr(o, "replaced_hash").value_or("");
    if (c.replaced_hash.empty()) {
        c.block_number = int64(o, "block_number", kType);
    }
    c.contract_address = optStr(o, "contract_address").value_or("");
    return c;
}

std::string DeedMinted::data() const {
    json::object o;
    putRef(o, at);
    o["token_id"] = token_id;
    o["owner"] = owner;
    o["uri"] = uri;
    return json::serialize(o);
}

DeedMinted DeedMinted::parse(std::string_view data) {
    auto o = object(data, kType);
    return {ref(o, kType), str(o, "token_id", kType), str(o, "owner", kType),
            optStr(o, "uri").value_or("")};
}

std::string SharesTransferred::data() const {
    json::object o;
    putRef(o, at);
    o["from"] = from;
    o["to"] = to;
    o["amount"] = amount;
    return json::serialize(o);
}

SharesTransferred SharesTransferred::parse(std::string_view data) {
    auto o = object(data, kType);
    return {ref(o, kType), str(o, "from", kType), str(o, "to", kType), str(o, "amount", kType)};
}

std::string RentDeposited::data() const {
    json::object o;
    putRef(o, at);
    o["by"] = by;
    o["amount"] = amount;
    return json::serialize(o);
}

RentDeposited RentDeposited::parse(std::string_view data) {
    auto o = object(data, kType);
    return {ref(o, kType), str(o, "by", kType), str(o, "amount", kType)};
}

std::string DividendClaimed::data() const {
    json::object o;
    putRef(o, at);
    o["holder"] = holder;
    o["amount"] = amount;
    return json::serialize(o);
}

DividendClaimed DividendClaimed::parse(std::string_view data) {
    auto o = object(data, kType);
    return {ref(o, kType), str(o, "holder", kType), str(o, "amount", kType)};
}

std::string PropertyTokenized::data() const {
    return json::serialize(json::object{{"listing_id", listing_id},
                                        {"deed_contract", deed_contract},
                                        {"token_id", token_id},
                                        {"shares_contract", shares_contract},
                                        {"symbol", symbol},
                                        {"total_shares", total_shares},
                                        {"price_minor", price_minor},
                                        {"currency", currency},
                                        {"metadata_uri", metadata_uri}});
}

PropertyTokenized PropertyTokenized::parse(std::string_view data) {
    auto o = object(data, kType);
    PropertyTokenized t;
    t.listing_id = str(o, "listing_id", kType);
    t.deed_contract = str(o, "deed_contract", kType);
    t.token_id = str(o, "token_id", kType);
    t.shares_contract = str(o, "shares_contract", kType);
    t.symbol = str(o, "symbol", kType);
    t.total_shares = int64(o, "total_shares", kType);
    t.price_minor = int64(o, "price_minor", kType);
    t.currency = str(o, "currency", kType);
    t.metadata_uri = str(o, "metadata_uri", kType);
    return t;
}

}  // namespace restinu::contracts
