#include "kyc_store.hpp"

#include <boost/json.hpp>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"
#include "user_store.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;

constexpr std::string_view kRecordSelect =
    "SELECT k.user_id::text AS user_id, k.status AS status, k.document_type AS document_type, "
    "k.document_masked AS document_masked, k.full_name AS full_name, "
    "k.date_of_birth::text AS date_of_birth, restinu_iso(k.submitted_at) AS submitted_at, "
    "restinu_iso(k.decided_at) AS decided_at, k.rejection_reason AS rejection_reason, "
    "k.submitted_at::text AS submitted_key FROM kyc k ";

class RecordReader {
public:
    explicit RecordReader(const rt::PgResult& r)
        : r_(r),
          user_(rt::requireColumn(r, "user_id")),
          status_(rt::requireColumn(r, "status")),
          type_(rt::requireColumn(r, "document_type")),
          masked_(rt::requireColumn(r, "document_masked")),
          name_(rt::requireColumn(r, "full_name")),
          dob_(rt::requireColumn(r, "date_of_birth")),
          submitted_(rt::requireColumn(r, "submitted_at")),
          decided_(rt::requireColumn(r, "decided_at")),
          reason_(rt::requireColumn(r, "rejection_reason")),
          key_(rt::requireColumn(r, "submitted_key")) {}

    KycRecord read(std::size_t i) const {
        KycRecord k{std::string(r_.get(i, user_)),
                    std::string(r_.get(i, status_)),
                    std::string(r_.get(i, type_)),
                    std::string(r_.get(i, masked_)),
                    std::string(r_.get(i, name_)),
                    std::string(r_.get(i, dob_)),
                    std::string(r_.get(i, submitted_)),
                    std::nullopt,
                    std::nullopt,
                    std::string(r_.get(i, key_))};
        if (auto d = r_.opt(i, decided_)) {
            k.decided_at = std::string(*d);
        }
        if (auto why = r_.opt(i, reason_)) {
            k.rejection_reason = std::string(*why);
        }
        return k;
    }

private:
    const rt::PgResult& r_;
    int user_, status_, type_, masked_, name_, dob_, submitted_, decided_, reason_, key_;
};

}  // namespace

rt::Task<std::optional<KycRecord>> KycStore::find(const std::string& user_id) {
    const auto sql = std::string(kRecordSelect) + "WHERE k.user_id = $1::uuid";
    auto r = co_await pool_.query(sql, user_id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    co_return RecordReader(r).read(0);
}

rt::Task<std::vector<KycRecord>> KycStore::list(const KycQueue& q) {
    const auto sql =
        std::string(kRecordSelect) +
        "WHERE k.status = $1 AND ($2::timestamptz IS NULL OR (k.submitted_at, k.user_id) > "
        "($2::timestamptz, $3::uuid)) ORDER BY k.submitted_at, k.user_id LIMIT $4";
    auto r = co_await pool_.query(sql, q.status, q.after_submitted, q.after_user, q.limit);
    RecordReader reader(r);
    std::vector<KycRecord> out;
    out.reserve(r.rows());
    for (std::size_t i = 0; i < r.rows(); ++i) {
        out.push_back(reader.read(i));
    }
    co_return out;
}

rt::Task<KycSubmitted> KycStore::submit(const KycSubmission& s, const WriteContext& ctx) {
    try {
        co_return co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<KycSubmitted> {
            auto r = co_await tx.query(
                "INSERT INTO kyc AS k (user_id, status, document_type, document_cipher, "
                "document_masked, full_name, date_of_birth, document_fingerprint) "
                "VALUES ($1::uuid, 'pending', $2, decode($3, 'hex'), $4, $5, $6::date, "
                "decode($7, 'hex')) "
                "ON CONFLICT (user_id) DO UPDATE SET status = 'pending', "
                "document_type = EXCLUDED.document_type, "
                "document_cipher = EXCLUDED.document_cipher, "
                "document_masked = EXCLUDED.document_masked, full_name = EXCLUDED.full_name, "
                "date_of_birth = EXCLUDED.date_of_birth, "
                "document_fingerprint = EXCLUDED.document_fingerprint, submitted_at = now(), "
                "decided_at = NULL, decided_by = NULL, rejection_reason = NULL "
                "WHERE k.status = 'rejected' RETURNING 1",
                s.user_id, s.document_type, s.sealed_hex, s.masked, s.full_name, s.date_of_birth,
                s.fingerprint_hex);
            if (r.rows() == 0) {
                auto now =
                    co_await tx.query("SELECT status FROM kyc WHERE user_id = $1::uuid", s.user_id);
                co_return now.rows() == 1 && now.get(0, 0) == "approved"
                    ? KycSubmitted::AlreadyApproved
                    : KycSubmitted::AlreadyPending;
            }
            const contracts::KycSubmitted submitted{s.user_id, s.document_type};
            auto submitted_data = submitted.data();
            co_await enqueueUserEvent(tx, submitted.kType, s.user_id, std::move(submitted_data),
                                      ctx);
            auto details = json::serialize(json::object{{"document_type", s.document_type}});
            co_await rt::audit(tx, ctx.actor, "kyc.submit", "kyc", s.user_id, ctx.request_id,
                               details);
            co_return KycSubmitted::Submitted;
        });
    } catch (const rt::PgError& e) {
        if (e.sqlstate() != "23505") {  // unique_violation: the fingerprint is taken
            throw;
        }
    }
    co_return KycSubmitted::DocumentInUse;
}

rt::Task<std::optional<KycDecided>> KycStore::decide(const std::string& user_id, Decision decision,
                                                     const std::string& reason,
                                                     const WriteContext& ctx) {
    const bool approve = decision == Decision::Approve;
    co_return co_await pool_.transaction(
        [&](rt::PgConn& tx) -> rt::Task<std::optional<KycDecided>> {
            // The admin's right, read in the transaction that uses it.
            bool admin = co_await UserStore::isAdmin(tx, ctx.actor);
            if (!admin) {
                co_return std::nullopt;
            }
            const std::optional<std::string> why =
                approve ? std::nullopt : std::optional<std::string>(reason);
            auto r = co_await tx.query(
                "UPDATE kyc SET status = $2, decided_at = now(), decided_by = $3::uuid, "
                "rejection_reason = $4 WHERE user_id = $1::uuid AND status = 'pending' "
                "RETURNING 1",
                user_id, std::string(approve ? "approved" : "rejected"), ctx.actor, why);
            if (r.rows() == 0) {
                auto e = co_await tx.query("SELECT 1 FROM kyc WHERE user_id = $1::uuid", user_id);
                co_return e.rows() == 1 ? KycDecided::NotPending : KycDecided::NotSubmitted;
            }
            const contracts::KycDecided decided{approve, user_id, ctx.actor,
                                                approve ? std::string{} : reason};
            auto decided_data = decided.data();
            co_await enqueueUserEvent(tx, decided.type(), user_id, std::move(decided_data), ctx);
            json::object details;
            if (!approve) {
                details["reason"] = reason;
            }
            const auto details_text = json::serialize(details);
            const std::string_view action = approve ? "kyc.approve" : "kyc.reject";
            co_await rt::audit(tx, ctx.actor, action, "kyc", user_id, ctx.request_id, details_text);
            co_return KycDecided::Decided;
        });
}

}  // namespace restinu::user
