#include "purchase_steps.hpp"

#include <boost/json.hpp>

#include "cached_answers.hpp"
#include "listing_store.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/write_context.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace cp = contracts::problems;

struct StepRequest {
    std::string purchase_id;
    std::string action;
    std::string buyer_id;
    int expected_version = 0;
};

StepRequest parse(const json::object& body) {
    StepRequest s;
    std::vector<rt::FieldError> errors;
    auto text = [&](std::string_view name, std::string& out) {
        const auto* v = body.if_contains(name);
        if (v == nullptr || !v->is_string() || !rt::isUuid(v->as_string())) {
            errors.push_back({std::string(name), "must be a UUID"});
        } else {
            out = std::string(v->as_string());
        }
    };
    text("purchase_id", s.purchase_id);
    text("buyer_id", s.buyer_id);
    const auto* action = body.if_contains("action");
    static constexpr std::string_view kActions[] = {"reserve", "release", "transfer",
                                                    "revert_transfer", "mark_sold"};
    if (action != nullptr && action->is_string()) {
        s.action = std::string(action->as_string());
    }
    if (std::find(std::begin(kActions), std::end(kActions), s.action) == std::end(kActions)) {
        errors.push_back({"action",
                          "must be reserve, release, transfer, revert_transfer or "
                          "mark_sold"});
    }
    if (const auto* v = body.if_contains("expected_version"); v != nullptr && v->is_int64()) {
        s.expected_version = static_cast<int>(v->as_int64());
    } else if (s.action == "reserve") {
        errors.push_back({"expected_version", "must be the listing version the offer saw"});
    }
    if (!errors.empty()) {
        throw ApiError(rt::problems::kValidation, "the step has invalid fields", errors);
    }
    return s;
}

[[noreturn]] void unavailable(std::string detail) {
    throw ApiError(cp::kListingUnavailable, std::move(detail));
}

}  // namespace

rt::Task<rt::Response> PurchaseSteps::apply(rt::Request& req) {
    if (req.identity->user_id != kPaymentServiceCaller) {
        throw ApiError(rt::problems::kForbidden, "only the payment service takes purchase steps");
    }
    const auto step = parse(rt::parseJsonObject(req));
    const std::string id(req.param("id"));
    if (!rt::isUuid(id)) {
        throw ApiError(rt::problems::kNotFound, "no such listing");
    }
    const auto ctx = rt::WriteContext::of(req, step.purchase_id);
    std::function<rt::Task<StoredListing>(rt::PgConn&)> body =
        [&](rt::PgConn& tx) -> rt::Task<StoredListing> {
        auto locked = co_await ListingStore::lock(tx, id);
        if (!locked) {
            throw ApiError(rt::problems::kNotFound, "no such listing");
        }
        auto current = std::move(*locked);
        auto done =
            co_await tx.execute("purchase_step_done",
                                "SELECT coalesce(previous_owner::text, '') FROM purchase_steps "
                                "WHERE purchase_id = $1::uuid AND action = $2",
                                step.purchase_id, step.action);
        if (done.rows() == 1) {
            co_return current;  // asked before: the first answer stands
        }
        // A compensation recorded for this purchase is final: a forward step that arrives
        // after it (a request that was slow on the way) is refused, never applied unseen.
        if (step.action == "reserve" || step.action == "transfer" || step.action == "mark_sold") {
            auto undone = co_await tx.execute(
                "purchase_undone",
                "SELECT 1 FROM purchase_steps WHERE purchase_id = $1::uuid AND action IN "
                "('release', 'revert_transfer')",
                step.purchase_id);
            if (undone.rows() > 0) {
                unavailable("the purchase was compensated");
            }
        }
        auto held = co_await tx.execute(
            "purchase_reserved_by",
            "SELECT coalesce(reserved_by::text, '') FROM properties WHERE id = $1::uuid", id);
        const std::string reserved_by(held.get(0, 0));
        const bool ours = reserved_by == step.purchase_id;
        const auto& status = current.listing.status;
        std::optional<std::string> previous_owner;
        const std::string action_name = "property.purchase." + step.action;
        if (step.action == "reserve") {
            if (status != "active") {
                unavailable("the listing is " + status +
                            (status == "reserved" ? " by another purchase" : ""));
            }
            if (current.version != step.expected_version) {
                unavailable("the listing changed since the offer was made (version " +
                            std::to_string(step.expected_version) + ", now " +
                            std::to_string(current.version) + ")");
            }
            co_await tx.execute("purchase_reserve",
                                "UPDATE properties SET reserved_by = $2::uuid WHERE id = $1::uuid",
                                id, step.purchase_id);
            auto l = current.listing;
            l.status = "reserved";
            current = co_await ListingStore::update(tx, current, l, action_name, ctx);
        } else if (step.action == "release") {
            if (ours && status == "reserved") {
                co_await tx.execute("purchase_release",
                                    "UPDATE properties SET reserved_by = NULL WHERE id = $1::uuid",
                                    id);
                auto l = current.listing;
                l.status = "active";
                current = co_await ListingStore::update(tx, current, l, action_name, ctx);
            }
        } else if (step.action == "transfer") {
            if (!ours || status != "reserved") {
                unavailable("the listing is not reserved by this purchase");
            }
            previous_owner = current.owner_id;
            if (current.owner_id != step.buyer_id) {
                current =
                    co_await ListingStore::setOwner(tx, current, step.buyer_id, action_name, ctx);
            }
        } else if (step.action == "revert_transfer") {
            auto t = co_await tx.execute(
                "purchase_transferred",
                "SELECT previous_owner::text FROM purchase_steps WHERE purchase_id = $1::uuid "
                "AND action = 'transfer'",
                step.purchase_id);
            // Keyed on the transfer's record and the current owner, not on the status.
            if (t.rows() == 1 && status != "sold" && current.owner_id == step.buyer_id) {
                current = co_await ListingStore::setOwner(tx, current, std::string(t.get(0, 0)),
                                                          action_name, ctx);
            }
        } else {  // mark_sold
            if (!ours || status != "reserved") {
                unavailable("the listing is not reserved by this purchase");
            }
            auto l = current.listing;
            l.status = "sold";
            current = co_await ListingStore::update(tx, current, l, action_name, ctx);
        }
        co_await tx.execute("purchase_step_record",
                            "INSERT INTO purchase_steps (purchase_id, action, listing_id, "
                            "previous_owner) VALUES ($1::uuid, $2, $3::uuid, $4::uuid)",
                            step.purchase_id, step.action, id, previous_owner);
        co_return current;
    };
    auto after = co_await primary_.transaction(body);
    co_await cache_.invalidate(listingKey(id));
    co_return rt::jsonResponse(200, json::object{{"listing_id", after.id},
                                                 {"status", after.listing.status},
                                                 {"owner_id", after.owner_id},
                                                 {"version", after.version}});
}

}  // namespace restinu::property
