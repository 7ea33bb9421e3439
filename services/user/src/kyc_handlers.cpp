#include "kyc_handlers.hpp"

#include <boost/json.hpp>
#include <cstdio>

#include "account_handlers.hpp"
#include "handler_support.hpp"
#include "kyc.hpp"
#include "profile_rules.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;

constexpr rt::ProblemType kKycPending{"kyc-pending", "A KYC submission is awaiting review", 409};
constexpr rt::ProblemType kKycApproved{"kyc-already-approved", "KYC is already approved", 409};
constexpr rt::ProblemType kKycNotPending{"kyc-not-pending", "No KYC submission awaits review", 409};
constexpr rt::ProblemType kDocumentInUse{"kyc-document-in-use",
                                         "This document is used by another account", 409};

constexpr std::string_view kViewColumns =
    "k.user_id::text, k.status, k.document_type, k.document_masked, k.full_name, "
    "k.date_of_birth::text, restinu_iso(k.submitted_at), restinu_iso(k.decided_at), "
    "k.rejection_reason";

json::object viewJson(const rt::PgResult& r, std::size_t i) {
    json::object out{{"user_id", r.get(i, 0)},       {"status", r.get(i, 1)},
                     {"document_type", r.get(i, 2)}, {"document_number", r.get(i, 3)},
                     {"full_name", r.get(i, 4)},     {"date_of_birth", r.get(i, 5)},
                     {"submitted_at", r.get(i, 6)},  {"decided_at", nullptr},
                     {"rejection_reason", nullptr}};
    if (auto d = r.opt(i, 7)) {
        out["decided_at"] = *d;
    }
    if (auto reason = r.opt(i, 8)) {
        out["rejection_reason"] = *reason;
    }
    return out;
}

std::chrono::year_month_day systemToday() {
    return std::chrono::year_month_day{
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

// "YYYY-MM-DD" with a real calendar date; nullopt otherwise.
std::optional<std::chrono::year_month_day> parseDate(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
        return std::nullopt;
    }
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
    }
    std::sscanf(std::string(s).c_str(), "%4d-%2u-%2u", &y, &m, &d);
    std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                    std::chrono::day{d}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return ymd;
}

}  // namespace

KycHandlers::KycHandlers(rt::PgPool& pool, const rt::TokenVerifier& verifier, KycVault vault,
                         Today today)
    : pool_(pool),
      verifier_(verifier),
      vault_(vault),
      today_(today ? std::move(today) : Today(&systemToday)) {}

rt::Task<rt::Response> KycHandlers::view(const std::string& user_id) {
    std::string sql =
        "SELECT " + std::string(kViewColumns) + " FROM kyc k WHERE k.user_id = $1::uuid";
    auto r = co_await pool_.query(sql, user_id);
    if (r.rows() == 0) {
        co_return rt::jsonResponse(200, json::object{{"user_id", user_id}, {"status", "none"}});
    }
    co_return rt::jsonResponse(200, viewJson(r, 0));
}

rt::Task<rt::Response> KycHandlers::mine(rt::Request& req) {
    auto caller = authenticate(verifier_, req);
    co_return co_await view(caller.user_id);
}

rt::Task<rt::Response> KycHandlers::submit(rt::Request& req) {
    auto caller = authenticate(verifier_, req);
    auto body = parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto type = stringField(body, "document_type", errors);
    bool passport = type == "passport";
    // A passport is read from its machine-readable zone; the others are a bare number.
    auto number = stringField(body, passport ? "mrz" : "document_number", errors);
    auto full_name_in = stringField(body, "full_name", errors);
    auto dob_text = stringField(body, "date_of_birth", errors);
    auto today = today_();
    if (!type.empty() && type != "aadhaar" && type != "pan" && !passport) {
        errors.push_back({"document_type", "must be one of aadhaar, pan, passport"});
    } else if (!type.empty() && !number.empty()) {
        auto check = domain::validateDocument(type, number);
        if (!check.ok) {
            auto field = check.field == "number" ? std::string("document_number") : check.field;
            errors.push_back({field, check.reason});
        }
    }
    auto full_name = domain::normaliseName(full_name_in);
    if (!full_name_in.empty() && !full_name) {
        errors.push_back({"full_name", "must be 1 to 100 characters, no control characters"});
    }
    auto dob = parseDate(dob_text);
    if (!dob_text.empty()) {
        if (!dob) {
            errors.push_back({"date_of_birth", "must be a date as YYYY-MM-DD"});
        } else if (!domain::isAdult(static_cast<int>(dob->year()),
                                    static_cast<int>(static_cast<unsigned>(dob->month())),
                                    static_cast<int>(static_cast<unsigned>(dob->day())), today)) {
            errors.push_back({"date_of_birth", "you must be 18 or older"});
        }
    }
    std::string fingerprint_subject;
    if (passport && errors.empty()) {
        auto mrz = domain::parsePassportMrz(number).mrz;
        if (domain::birthDate(mrz->date_of_birth, today) != *dob) {
            errors.push_back({"date_of_birth", "does not match the passport"});
        }
        if (domain::passportExpired(*mrz, today)) {
            errors.push_back({"mrz", "the passport has expired"});
        }
        fingerprint_subject = mrz->issuing_state + "/" + mrz->document_number;
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the KYC submission has invalid fields", errors);
    }
    auto normalised = domain::normaliseDocumentNumber(type, number);
    if (!passport) {
        fingerprint_subject = normalised;
    }
    auto sealed_hex = rt::toHex(vault_.seal(normalised));
    auto fingerprint = vault_.fingerprintHex(type, fingerprint_subject);
    auto masked = domain::maskDocument(type, number);
    auto dob_iso = dob_text;

    enum class Outcome { Submitted, Pending, Approved, InUse } outcome = Outcome::Submitted;
    try {
        co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            // New, or a resubmission after a rejection; never over a pending or approved one.
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
                caller.user_id, type, sealed_hex, masked, *full_name, dob_iso, fingerprint);
            if (r.rows() == 0) {
                auto s = co_await tx.query("SELECT status FROM kyc WHERE user_id = $1::uuid",
                                           caller.user_id);
                outcome = s.rows() == 1 && s.get(0, 0) == "approved" ? Outcome::Approved
                                                                     : Outcome::Pending;
                co_return;
            }
            const contracts::KycSubmitted submitted{caller.user_id, type};
            auto event = rt::makeEvent(std::string(submitted.kType),
                                       std::string(contracts::kUserAggregate), caller.user_id,
                                       submitted.data(), std::string(req.header("traceparent")));
            co_await rt::enqueueEvent(tx, event);
            json::object details;
            details["document_type"] = type;
            auto details_text = json::serialize(details);
            co_await audit(tx, caller.user_id, "kyc.submit", "kyc", caller.user_id, req,
                           details_text);
        });
    } catch (const rt::PgError& e) {
        if (e.sqlstate() != "23505") {  // unique_violation: the fingerprint is taken
            throw;
        }
        outcome = Outcome::InUse;
    }
    switch (outcome) {
        case Outcome::Pending:
            throw ApiError(kKycPending, "wait for the review of your current submission");
        case Outcome::Approved:
            throw ApiError(kKycApproved, "your identity is already verified");
        case Outcome::InUse:
            throw ApiError(kDocumentInUse,
                           "this document is registered to another account; contact support");
        case Outcome::Submitted:
            break;
    }
    auto res = co_await view(caller.user_id);
    res.status = 202;  // accepted for review
    co_return res;
}

rt::Task<rt::Response> KycHandlers::list(rt::Request& req) {
    auto caller = authenticate(verifier_, req);
    co_await requireAdmin(pool_, caller);
    std::vector<rt::FieldError> errors;
    auto status = req.queryParam("status").value_or("pending");
    if (status != "pending" && status != "approved" && status != "rejected") {
        errors.push_back({"status", "must be pending, approved or rejected"});
    }
    auto limit = pageLimit(req, errors);
    // Oldest first (a review queue); the cursor is "<submitted_at as text>,<user_id>" (the
    // timestamp's own text form, so it round-trips to the microsecond).
    std::optional<std::string> after_ts;
    std::optional<std::string> after_id;
    if (auto c = req.queryParam("cursor")) {
        auto decoded = rt::base64UrlDecode(*c);
        auto comma = decoded ? decoded->rfind(',') : std::string::npos;
        if (comma == std::string::npos || comma == 0 || comma > 40 ||
            !isUuid(decoded->substr(comma + 1)) ||
            decoded->substr(0, comma).find_first_not_of("0123456789-:. +") != std::string::npos) {
            errors.push_back({"cursor", "is not a cursor this endpoint gave out"});
        } else {
            after_ts = decoded->substr(0, comma);
            after_id = decoded->substr(comma + 1);
        }
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "invalid query parameters", errors);
    }
    std::string sql = "SELECT " + std::string(kViewColumns) +
                      ", k.submitted_at::text FROM kyc k WHERE k.status = $1 AND "
                      "($2::timestamptz IS NULL OR (k.submitted_at, k.user_id) > "
                      "($2::timestamptz, $3::uuid)) ORDER BY k.submitted_at, k.user_id LIMIT $4";
    auto r = co_await pool_.query(sql, status, after_ts, after_id, limit + 1);
    auto out = page(r, limit, &viewJson, [](const rt::PgResult& rows, std::size_t last) {
        return rt::base64UrlEncode(std::string(rows.get(last, 9)) + "," +
                                   std::string(rows.get(last, 0)));
    });
    co_return rt::jsonResponse(200, out);
}

rt::Task<rt::Response> KycHandlers::approve(rt::Request& req) {
    return decide(req, true);
}
rt::Task<rt::Response> KycHandlers::reject(rt::Request& req) {
    return decide(req, false);
}

rt::Task<rt::Response> KycHandlers::decide(rt::Request& req, bool approve) {
    auto caller = authenticate(verifier_, req);
    co_await requireAdmin(pool_, caller);
    auto user_id = std::string(req.param("user_id"));
    if (!isUuid(user_id)) {
        throw ApiError(problems::kNotFound, "no such user");
    }
    if (user_id == caller.user_id) {
        throw ApiError(problems::kForbidden, "another admin must review your own KYC");
    }
    std::string reason;
    if (!approve) {
        auto body = parseJsonObject(req);
        std::vector<rt::FieldError> errors;
        reason = stringField(body, "reason", errors);
        if (errors.empty() &&
            (reason.find_first_not_of(" \t\r\n") == std::string::npos || reason.size() > 500)) {
            errors.push_back({"reason", "must say why, in at most 500 characters"});
        }
        if (!errors.empty()) {
            throw ApiError(problems::kValidation, "a rejection needs a reason", errors);
        }
    }
    bool decided = false;
    bool exists = false;
    co_await pool_.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        const std::string status = approve ? "approved" : "rejected";
        const std::optional<std::string> why =
            approve ? std::nullopt : std::optional<std::string>(reason);
        auto r = co_await tx.query(
            "UPDATE kyc SET status = $2, decided_at = now(), decided_by = $3::uuid, "
            "rejection_reason = $4 WHERE user_id = $1::uuid AND status = 'pending' RETURNING 1",
            user_id, status, caller.user_id, why);
        if (r.rows() == 0) {
            auto e = co_await tx.query("SELECT 1 FROM kyc WHERE user_id = $1::uuid", user_id);
            exists = e.rows() == 1;
            co_return;
        }
        decided = exists = true;
        const contracts::KycDecided decision{approve, user_id, caller.user_id,
                                             approve ? std::string{} : reason};
        auto event =
            rt::makeEvent(std::string(decision.type()), std::string(contracts::kUserAggregate),
                          user_id, decision.data(), std::string(req.header("traceparent")));
        co_await rt::enqueueEvent(tx, event);
        json::object details;
        if (!approve) {
            details["reason"] = reason;
        }
        auto details_text = json::serialize(details);
        co_await audit(tx, caller.user_id, approve ? "kyc.approve" : "kyc.reject", "kyc", user_id,
                       req, details_text);
    });
    if (!exists) {
        throw ApiError(problems::kNotFound, "this user has not submitted KYC");
    }
    if (!decided) {
        throw ApiError(kKycNotPending, "only a pending submission can be decided");
    }
    co_return co_await view(user_id);
}

}  // namespace restinu::user
