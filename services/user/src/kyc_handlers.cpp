#include "kyc_handlers.hpp"

#include <boost/json.hpp>
#include <cstdio>

#include "handler_support.hpp"
#include "kyc.hpp"
#include "profile_rules.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/jwt.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;
namespace cp = contracts::problems;

json::object recordJson(const KycRecord& k) {
    json::object out{{"user_id", k.user_id},
                     {"status", k.status},
                     {"document_type", k.document_type},
                     {"document_number", k.document_masked},
                     {"full_name", k.full_name},
                     {"date_of_birth", k.date_of_birth},
                     {"submitted_at", k.submitted_at},
                     {"decided_at", nullptr},
                     {"rejection_reason", nullptr}};
    if (k.decided_at) {
        out["decided_at"] = *k.decided_at;
    }
    if (k.rejection_reason) {
        out["rejection_reason"] = *k.rejection_reason;
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

KycHandlers::KycHandlers(rt::PgPool& pool, KycVault vault, Today today)
    : kyc_(pool), vault_(vault), today_(today ? std::move(today) : Today(&systemToday)) {}

rt::Task<rt::Response> KycHandlers::view(const std::string& user_id) {
    auto record = co_await kyc_.find(user_id);
    if (!record) {
        co_return rt::jsonResponse(200, json::object{{"user_id", user_id}, {"status", "none"}});
    }
    co_return rt::jsonResponse(200, recordJson(*record));
}

rt::Task<rt::Response> KycHandlers::mine(rt::Request& req) {
    auto caller = callerOf(req);
    co_return co_await view(caller.user_id);
}

rt::Task<rt::Response> KycHandlers::submit(rt::Request& req) {
    auto caller = callerOf(req);
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

    const KycSubmission submission{caller.user_id, type,     sealed_hex, masked,
                                   *full_name,     dob_text, fingerprint};
    const auto ctx = WriteContext::of(req, caller.user_id);
    auto submitted = co_await kyc_.submit(submission, ctx);
    switch (submitted) {
        case KycSubmitted::AlreadyPending:
            throw ApiError(cp::kKycPending, "wait for the review of your current submission");
        case KycSubmitted::AlreadyApproved:
            throw ApiError(cp::kKycAlreadyApproved, "your identity is already verified");
        case KycSubmitted::DocumentInUse:
            throw ApiError(cp::kKycDocumentInUse,
                           "this document is registered to another account; contact support");
        case KycSubmitted::Submitted:
            break;
    }
    auto res = co_await view(caller.user_id);
    res.status = 202;  // accepted for review
    co_return res;
}

rt::Task<rt::Response> KycHandlers::list(rt::Request& req) {
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
    // Named, not a temporary: g++ 12 destroys a temporary in a co_await expression twice.
    const KycQueue queue{status, after_ts, after_id, limit + 1};
    auto records = co_await kyc_.list(queue);
    co_return rt::jsonResponse(
        200, page(records, limit, &recordJson, [](const KycRecord& last) {
            return rt::base64UrlEncode(last.submitted_key + "," + last.user_id);
        }));
}

rt::Task<rt::Response> KycHandlers::approve(rt::Request& req) {
    return decide(req, true);
}
rt::Task<rt::Response> KycHandlers::reject(rt::Request& req) {
    return decide(req, false);
}

rt::Task<rt::Response> KycHandlers::decide(rt::Request& req, bool approve) {
    auto caller = callerOf(req);
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
    const auto ctx = WriteContext::of(req, caller.user_id);
    const auto decision = approve ? KycStore::Decision::Approve : KycStore::Decision::Reject;
    auto decided = co_await kyc_.decide(user_id, decision, reason, ctx);
    if (!decided) {
        throw ApiError(problems::kForbidden, "this needs the admin role");
    }
    if (*decided == KycDecided::NotSubmitted) {
        throw ApiError(problems::kNotFound, "this user has not submitted KYC");
    }
    if (*decided == KycDecided::NotPending) {
        throw ApiError(cp::kKycNotPending, "only a pending submission can be decided");
    }
    co_return co_await view(user_id);
}

}  // namespace restinu::user
