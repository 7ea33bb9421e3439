#include "views.hpp"

#include <boost/json.hpp>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"

namespace restinu::payment {
namespace {

namespace json = boost::json;

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

}  // namespace

rt::Task<void> applyListingEvent(rt::PgConn& tx, const rt::Event& event) {
    if (!contracts::PropertyChanged::carries(event.type)) {
        co_return;  // photos do not matter to a purchase
    }
    const auto changed = contracts::PropertyChanged::parse(event.data);
    const auto row = json::parse(changed.listing_json).as_object();
    const auto* token = row.if_contains("token");
    const bool tokenized = token != nullptr && token->is_object();
    std::string address = str(row, "address_line");
    for (auto part : {"locality", "city", "state", "postal_code"}) {
        if (auto s = str(row, part); !s.empty()) {
            address += (address.empty() ? "" : ", ") + s;
        }
    }
    co_await tx.execute(
        "payment_listing_view",
        "INSERT INTO listing_view AS v (id, owner_id, status, price_minor, currency, title, "
        "address, version, tokenized) VALUES ($1::uuid, $2::uuid, $3, $4::bigint, $5, $6, $7, "
        "$8::int, $9::boolean) ON CONFLICT (id) DO UPDATE SET owner_id = EXCLUDED.owner_id, "
        "status = EXCLUDED.status, price_minor = EXCLUDED.price_minor, currency = "
        "EXCLUDED.currency, title = EXCLUDED.title, address = EXCLUDED.address, version = "
        "EXCLUDED.version, tokenized = EXCLUDED.tokenized WHERE v.version < EXCLUDED.version",
        str(row, "id"), str(row, "owner_id"), str(row, "status"),
        row.at("price_minor").to_number<std::int64_t>(), str(row, "currency"), str(row, "title"),
        address, changed.version, tokenized);
}

rt::Task<void> applyKycEvent(rt::PgConn& tx, const rt::Event& event) {
    if (event.type != contracts::KycDecided::kApproved &&
        event.type != contracts::KycDecided::kRejected) {
        co_return;
    }
    const auto decided = contracts::KycDecided::parse(event.type, event.data);
    co_await tx.execute(
        "payment_kyc_view",
        "INSERT INTO kyc_view (user_id, status) VALUES ($1::uuid, $2) "
        "ON CONFLICT (user_id) DO UPDATE SET status = EXCLUDED.status, decided_at = now()",
        decided.user_id, decided.approved ? "approved" : "rejected");
}

rt::Task<std::optional<ListingView>> findListing(rt::PgConn& conn, const std::string& id) {
    auto r = co_await conn.execute(
        "payment_find_listing",
        "SELECT id::text AS id, owner_id::text AS owner_id, status, price_minor, currency, title, "
        "address, version, tokenized FROM listing_view WHERE id = $1::uuid",
        id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    static constexpr std::array<std::string_view, 9> kNames = {
        "id",    "owner_id", "status",  "price_minor", "currency",
        "title", "address",  "version", "tokenized"};
    const auto c = rt::requireColumns(r, kNames);
    ListingView v;
    v.id = r.get(0, c[0]);
    v.owner_id = r.get(0, c[1]);
    v.status = r.get(0, c[2]);
    v.price_minor = r.getInt(0, c[3]);
    v.currency = r.get(0, c[4]);
    v.title = r.get(0, c[5]);
    v.address = r.get(0, c[6]);
    v.version = static_cast<int>(r.getInt(0, c[7]));
    v.tokenized = r.get(0, c[8]) == "t";
    co_return v;
}

rt::Task<bool> kycApproved(rt::PgConn& conn, const std::string& user_id) {
    auto r = co_await conn.execute("payment_kyc_status",
                                   "SELECT status FROM kyc_view WHERE user_id = $1::uuid", user_id);
    co_return r.rows() == 1 && r.get(0, 0) == "approved";
}

}  // namespace restinu::payment
