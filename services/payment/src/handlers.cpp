#include "handlers.hpp"

#include <boost/json.hpp>

#include "restinu/contracts/problems.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "stripe_provider.hpp"
#include "views.hpp"

namespace restinu::payment {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;
namespace cp = contracts::problems;

json::object offerJson(const Offer& o) {
    json::object out{{"id", o.id},
                     {"listing_id", o.listing_id},
                     {"buyer_id", o.buyer_id},
                     {"seller_id", o.seller_id},
                     {"price", json::object{{"amount", o.amount}, {"currency", o.currency}}},
                     {"status", o.status},
                     {"expires_at", o.expires_at},
                     {"created_at", o.created_at}};
    if (!o.purchase_id.empty()) {
        out["purchase_id"] = o.purchase_id;
    }
    return out;
}

bool isAdmin(const rt::Request& req) {
    return req.identity->hasRole("admin");
}

std::string requireId(const rt::Request& req, std::string_view what) {
    std::string id(req.param("id"));
    if (!rt::isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such " + std::string(what));
    }
    return id;
}

Offer parseOffer(const json::object& body) {
    Offer o;
    std::vector<rt::FieldError> errors;
    const auto* listing = body.if_contains("listing_id");
    if (listing == nullptr || !listing->is_string() || !rt::isUuid(listing->as_string())) {
        errors.push_back({"listing_id", "must be a listing's id"});
    } else {
        o.listing_id = std::string(listing->as_string());
    }
    const auto* price = body.if_contains("price");
    const json::object* p = price != nullptr && price->is_object() ? &price->as_object() : nullptr;
    const auto* amount = p != nullptr ? p->if_contains("amount") : nullptr;
    const auto* currency = p != nullptr ? p->if_contains("currency") : nullptr;
    if (amount == nullptr || !amount->is_int64() || amount->as_int64() <= 0 ||
        amount->as_int64() > 1'000'000'000'000'000) {
        errors.push_back({"price.amount", "must be a positive integer of minor units"});
    } else {
        o.amount = amount->as_int64();
    }
    if (currency == nullptr || !currency->is_string() || currency->as_string().size() != 3) {
        errors.push_back({"price.currency", "must be an ISO 4217 code"});
    } else {
        o.currency = std::string(currency->as_string());
    }
    const auto* method = body.if_contains("payment_method");
    if (method == nullptr || !method->is_string() || !method->as_string().starts_with("pm_") ||
        method->as_string().size() > 64) {
        errors.push_back({"payment_method", "must be the provider's payment method id (pm_...)"});
    } else {
        o.payment_method = std::string(method->as_string());
    }
    for (const auto& [k, _] : body) {
        if (k != "listing_id" && k != "price" && k != "payment_method") {
            errors.push_back({std::string(k), "unknown field"});
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the offer has invalid fields", errors);
    }
    return o;
}

// Deciding an offer is its seller's (the listing's owner or agent) or an admin's.
void requireSeller(const Offer& offer, const rt::Request& req, std::string_view verb) {
    if (offer.seller_id != req.identity->user_id && !isAdmin(req)) {
        throw ApiError(problems::kForbidden,
                       "only the listing's owner or an admin " + std::string(verb));
    }
}

}  // namespace

rt::Task<rt::Response> Handlers::makeOffer(rt::Request& req) {
    auto offer = parseOffer(rt::parseJsonObject(req));
    offer.buyer_id = req.identity->user_id;
    auto conn = co_await pool_.acquire();
    if (!co_await kycApproved(conn, offer.buyer_id)) {
        throw ApiError(cp::kKycRequired, "your KYC must be approved before you make an offer");
    }
    auto listing = co_await findListing(conn, offer.listing_id);
    conn.release();
    if (!listing || listing->status == "draft") {
        throw ApiError(problems::kNotFound, "no such listing");
    }
    if (listing->status != "active") {
        throw ApiError(cp::kListingUnavailable, "the listing is " + listing->status);
    }
    if (listing->owner_id == offer.buyer_id) {
        throw ApiError(problems::kValidation, "you cannot buy your own listing",
                       {{"listing_id", "is your own listing"}});
    }
    if (listing->currency != offer.currency) {
        throw ApiError(problems::kValidation, "the offer must be in the listing's currency",
                       {{"price.currency", "must be " + listing->currency}});
    }
    offer.id = rt::newUuidV7();
    offer.seller_id = listing->owner_id;
    offer.listing_version = listing->version;
    auto stored = co_await offers_.insert(offer, offer_settings_.expiry,
                                          rt::WriteContext::of(req, offer.buyer_id));
    auto res = rt::jsonResponse(201, offerJson(stored));
    res.header("Location", "/api/v1/offers/" + stored.id);
    co_return res;
}

rt::Task<Offer> Handlers::partyOffer(rt::Request& req) {
    const auto id = requireId(req, "offer");
    auto offer = co_await offers_.find(id);
    const auto& me = req.identity->user_id;
    if (!offer || (offer->buyer_id != me && offer->seller_id != me && !isAdmin(req))) {
        throw ApiError(problems::kNotFound, "no such offer");
    }
    co_return std::move(*offer);
}

rt::Task<PurchaseRow> Handlers::partyPurchase(rt::Request& req) {
    const auto id = requireId(req, "purchase");
    auto p = co_await purchases_.find(id);
    const auto& me = req.identity->user_id;
    if (!p || (p->buyer_id != me && p->seller_id != me && !isAdmin(req))) {
        throw ApiError(problems::kNotFound, "no such purchase");
    }
    co_return std::move(*p);
}

rt::Task<rt::Response> Handlers::getOffer(rt::Request& req) {
    const auto offer = co_await partyOffer(req);
    co_return rt::jsonResponse(200, offerJson(offer));
}

rt::Task<rt::Response> Handlers::acceptOffer(rt::Request& req) {
    const auto offer = co_await partyOffer(req);
    const auto& me = req.identity->user_id;
    requireSeller(offer, req, "accepts");
    auto accepted = co_await offers_.accept(offer.id, offer_settings_.deposit_bps,
                                            rt::WriteContext::of(req, me));
    if (!accepted) {
        throw ApiError(cp::kOfferNotPending, "the offer is " + offer.status);
    }
    wake_saga_();
    auto res = rt::jsonResponse(201, offerJson(*accepted));
    res.header("Location", "/api/v1/purchases/" + accepted->purchase_id);
    co_return res;
}

rt::Task<rt::Response> Handlers::rejectOffer(rt::Request& req) {
    const auto offer = co_await partyOffer(req);
    requireSeller(offer, req, "rejects");
    auto rejected =
        co_await offers_.reject(offer.id, rt::WriteContext::of(req, req.identity->user_id));
    if (!rejected) {
        throw ApiError(cp::kOfferNotPending, "the offer is " + offer.status);
    }
    co_return rt::jsonResponse(200, offerJson(*rejected));
}

rt::Task<rt::Response> Handlers::getPurchase(rt::Request& req) {
    const auto p = co_await partyPurchase(req);
    json::array steps;
    const auto rows = co_await purchases_.steps(p.id);
    for (const auto& s : rows) {
        json::object step{{"step", s.step}, {"status", s.status}, {"attempts", s.attempts}};
        if (!s.error.empty()) {
            step["error"] = s.error;
        }
        if (!s.finished_at.empty()) {
            step["finished_at"] = s.finished_at;
        }
        steps.push_back(std::move(step));
    }
    json::object out{{"id", p.id},
                     {"offer_id", p.offer_id},
                     {"listing_id", p.listing_id},
                     {"buyer_id", p.buyer_id},
                     {"seller_id", p.seller_id},
                     {"price", json::object{{"amount", p.price}, {"currency", p.currency}}},
                     {"charge", json::object{{"amount", p.charge}, {"currency", p.currency}}},
                     {"state", p.state},
                     {"steps", steps},
                     {"created_at", p.created_at},
                     {"updated_at", p.updated_at}};
    if (!p.step.empty()) {
        out["current_step"] = p.step;
    }
    if (!p.failure_reason.empty() && p.state != "running") {
        out["failure_reason"] = p.failure_reason;
    }
    if (!p.agreement_sha256.empty()) {
        out["agreement"] = json::object{{"sha256", p.agreement_sha256},
                                        {"href", "/api/v1/purchases/" + p.id + "/agreement.pdf"}};
    }
    co_return rt::jsonResponse(200, out);
}

rt::Task<rt::Response> Handlers::agreement(rt::Request& req) {
    const auto p = co_await partyPurchase(req);
    const auto& id = p.id;
    auto pdf = co_await purchases_.agreement(id);
    if (!pdf) {
        throw ApiError(problems::kNotFound, "the agreement is not written yet");
    }
    // PostgreSQL's base64 wraps lines; the decoder wants none.
    std::string b64;
    for (char c : *pdf) {
        if (c != '\n') {
            b64 += c == '+' ? '-' : c == '/' ? '_' : c;
        }
    }
    while (!b64.empty() && b64.back() == '=') {
        b64.pop_back();
    }
    auto bytes = rt::base64UrlDecode(b64);
    if (!bytes) {
        throw std::runtime_error("stored agreement is not base64");
    }
    rt::Response res(200, "application/pdf", std::move(*bytes));
    res.header("ETag", "\"" + p.agreement_sha256 + "\"");
    res.header("Content-Disposition", "inline; filename=\"agreement-" + id + ".pdf\"");
    res.header("Cache-Control", "private, no-cache");
    co_return res;
}

rt::Task<rt::Response> Handlers::webhook(rt::Request& req) {
    const auto check =
        verifyStripeSignature(req.header("Stripe-Signature"), req.body, webhooks_.secret,
                              rt::unixSeconds(), webhooks_.tolerance_s);
    if (check != SignatureCheck::Valid) {
        throw ApiError(cp::kInvalidWebhook, check == SignatureCheck::Stale
                                                ? "the signature's timestamp is too old or new"
                                                : "the signature does not verify");
    }
    boost::system::error_code ec;
    auto v = json::parse(req.body, ec);
    if (ec || !v.is_object()) {
        throw ApiError(problems::kMalformedJson, "the event is not a JSON object");
    }
    const auto& e = v.as_object();
    const auto* id = e.if_contains("id");
    const auto* type = e.if_contains("type");
    const auto* created = e.if_contains("created");
    const auto* data = e.if_contains("data");
    if (id == nullptr || !id->is_string() || type == nullptr || !type->is_string() ||
        created == nullptr || !created->is_int64() || data == nullptr || !data->is_object() ||
        !data->as_object().contains("object") || !data->as_object().at("object").is_object()) {
        throw ApiError(problems::kValidation, "the event lacks id, type, created or data.object");
    }
    const auto& object = data->as_object().at("object").as_object();
    std::string provider_intent;
    if (const auto* pid = object.if_contains("id"); pid != nullptr && pid->is_string()) {
        provider_intent = std::string(pid->as_string());
    }
    std::string status;
    if (const auto* s = object.if_contains("status"); s != nullptr && s->is_string()) {
        status = std::string(s->as_string());
    }
    const std::string event_id(id->as_string());
    const std::string event_type(type->as_string());
    const auto at = created->as_int64();
    std::function<rt::Task<bool>(rt::PgConn&)> body = [&](rt::PgConn& tx) -> rt::Task<bool> {
        auto fresh = co_await tx.execute(
            "webhook_event",
            "INSERT INTO provider_events (id, type, intent_id, created) VALUES ($1, $2, $3, "
            "$4::bigint) ON CONFLICT (id) DO NOTHING RETURNING id",
            event_id, event_type, provider_intent, at);
        if (fresh.rows() == 0) {
            co_return false;  // a replay: already applied
        }
        // The provider's view of the intent, kept only if newer than what we have (events
        // arrive out of order).
        co_await tx.execute(
            "webhook_intent",
            "UPDATE payment_intents SET provider_status = $2, provider_event_at = $3::bigint "
            "WHERE provider_intent_id = $1 AND (provider_event_at IS NULL OR "
            "provider_event_at <= $3::bigint)",
            provider_intent, status, at);
        co_return true;
    };
    const bool applied = co_await pool_.transaction(body);
    co_return rt::jsonResponse(200, json::object{{"received", true}, {"duplicate", !applied}});
}

}  // namespace restinu::payment
