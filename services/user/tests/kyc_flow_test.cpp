#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "kyc.hpp"
#include "kyc_vault.hpp"
#include "user_fixture.hpp"

namespace restinu::user {
namespace {

namespace json = boost::json;
using KycFlowTest = UserServiceTest;

constexpr const char* kAadhaar = "2341 2341 2346";  // Verhoeff-valid, not a real person's

// The date `years` years before today (the service checks ages against the real date).
std::string yearsAgo(int years) {
    std::chrono::year_month_day today{
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
    auto then = today - std::chrono::years(years);
    if (!then.ok()) {  // 29 February
        then = then.year() / then.month() / std::chrono::day(28);
    }
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(then.year()),
                  static_cast<unsigned>(then.month()), static_cast<unsigned>(then.day()));
    return text;
}

std::string aadhaar(const std::string& number, const std::string& dob = "1990-05-17") {
    return json::serialize(json::object{{"document_type", "aadhaar"},
                                        {"document_number", number},
                                        {"full_name", "Asha Rao"},
                                        {"date_of_birth", dob}});
}

// A TD3 passport MRZ with correct check digits (computed by the tested ICAO 9303 function).
std::string passportMrz(const std::string& number9, const std::string& dob6,
                        const std::string& expiry6) {
    auto cd = [](const std::string& f) { return std::string(1, domain::mrzCheckDigit(f)); };
    std::string personal(14, '<');
    std::string doc = number9 + cd(number9);
    std::string dob = dob6 + cd(dob6);
    std::string exp = expiry6 + cd(expiry6);
    std::string pers = personal + cd(personal);
    std::string line2 = doc + "IND" + dob + "F" + exp + pers;
    line2 += cd(doc + dob + exp + pers);
    std::string line1 = "P<INDRAO<<ASHA";
    line1.resize(44, '<');
    return line1 + "\n" + line2;
}

TEST_F(KycFlowTest, ASubmissionIsPendingMaskedAndEncryptedAtRest) {
    std::string id;
    auto token = account("kyc-submit", "investor", &id);
    auto before = call(kMyKyc, "", token);
    ASSERT_EQ(before.status, 200);
    EXPECT_EQ(before.body.at("status").as_string(), "none");
    auto r = call(kSubmitKyc, aadhaar(kAadhaar), token);
    ASSERT_EQ(r.status, 202) << json::serialize(r.body);
    EXPECT_EQ(r.body.at("status").as_string(), "pending");
    EXPECT_EQ(r.body.at("document_number").as_string(), "XXXX XXXX 2346");
    auto mine = call(kMyKyc, "", token);
    EXPECT_EQ(mine.body.at("document_number").as_string(), "XXXX XXXX 2346");
    EXPECT_EQ(mine.raw.body.find("234123412346"), std::string::npos);
    // At rest: no clear number in any column; the box opens with the configured key.
    auto row = rt::runBlocking(
        io(), pool_->query("SELECT encode(document_cipher, 'hex'), k::text FROM kyc k "
                           "WHERE user_id = $1::uuid",
                           id));
    EXPECT_EQ(std::string(row.get(0, 1)).find("234123412346"), std::string::npos);
    std::string hex(row.get(0, 0));
    std::string sealed;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        sealed += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    std::string why;
    EXPECT_EQ(KycVault::fromBase64(kVaultKey, &why)->open(sealed), "234123412346");
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'user.kyc.submitted' AND "
                    "aggregate_id = $1",
                    id),
              1);
    EXPECT_EQ(
        count("SELECT count(*) FROM audit_log WHERE action = 'kyc.submit' AND entity_id = $1", id),
        1);
    // A second submission while pending is refused and changes nothing.
    auto again = call(kSubmitKyc,
                      json::serialize(json::object{{"document_type", "pan"},
                                                   {"document_number", "ABCPE1234F"},
                                                   {"full_name", "Asha Rao"},
                                                   {"date_of_birth", "1990-05-17"}}),
                      token);
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(again.body.at("type").as_string(), "https://restinu.dev/problems/kyc-pending");
    EXPECT_EQ(call(kMyKyc, "", token).body.at("document_type").as_string(), "aadhaar");
}

TEST_F(KycFlowTest, InvalidDocumentsAndMinorsAre422NamingTheField) {
    auto token = account("kyc-invalid", "investor", nullptr);
    auto field = [](const Reply& r) {
        return std::string(r.body.at("errors").as_array()[0].at("field").as_string());
    };
    auto r = call(kSubmitKyc, aadhaar("2341 2341 2345"), token);  // bad check digit
    ASSERT_EQ(r.status, 422);
    EXPECT_EQ(field(r), "document_number");
    r = call(kSubmitKyc, aadhaar(kAadhaar, yearsAgo(16)), token);
    ASSERT_EQ(r.status, 422);
    EXPECT_EQ(field(r), "date_of_birth");
    r = call(kSubmitKyc, aadhaar(kAadhaar, "1990-02-30"), token);
    EXPECT_EQ(r.status, 422);
    r = call(kSubmitKyc,
             json::serialize(json::object{{"document_type", "pan"},
                                          {"document_number", "ABCQE1234F"},  // Q: no such holder
                                          {"full_name", "Asha Rao"},
                                          {"date_of_birth", "1990-05-17"}}),
             token);
    ASSERT_EQ(r.status, 422);
    EXPECT_EQ(field(r), "document_number");
    r = call(kSubmitKyc,
             json::serialize(json::object{{"document_type", "driving_licence"},
                                          {"document_number", "X"},
                                          {"full_name", "Asha Rao"},
                                          {"date_of_birth", "1990-05-17"}}),
             token);
    ASSERT_EQ(r.status, 422);
    EXPECT_EQ(field(r), "document_type");
    // The ICAO specimen passport has expired (2012).
    auto specimen = std::string("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n") +
                    "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    r = call(kSubmitKyc,
             json::serialize(json::object{{"document_type", "passport"},
                                          {"mrz", specimen},
                                          {"full_name", "Anna Maria Eriksson"},
                                          {"date_of_birth", "1974-08-12"}}),
             token);
    ASSERT_EQ(r.status, 422);
    EXPECT_EQ(field(r), "mrz");
    auto bent = specimen;
    bent[bent.size() - 1] = '9';  // composite check digit
    r = call(kSubmitKyc,
             json::serialize(json::object{{"document_type", "passport"},
                                          {"mrz", bent},
                                          {"full_name", "Anna Maria Eriksson"},
                                          {"date_of_birth", "1974-08-12"}}),
             token);
    ASSERT_EQ(r.status, 422);
    EXPECT_EQ(field(r).substr(0, 3), "mrz");
    EXPECT_EQ(call(kMyKyc, "", token).body.at("status").as_string(), "none");
}

TEST_F(KycFlowTest, APassportMustMatchTheDateOfBirth) {
    auto token = account("kyc-passport", "investor", nullptr);
    auto mrz = passportMrz("Z1234567<", "880315", "320101");
    auto body = [&](const std::string& dob) {
        return json::serialize(json::object{{"document_type", "passport"},
                                            {"mrz", mrz},
                                            {"full_name", "Asha Rao"},
                                            {"date_of_birth", dob}});
    };
    auto wrong = call(kSubmitKyc, body("1988-03-16"), token);
    ASSERT_EQ(wrong.status, 422);
    EXPECT_EQ(wrong.body.at("errors").as_array()[0].at("field").as_string(), "date_of_birth");
    auto ok = call(kSubmitKyc, body("1988-03-15"), token);
    ASSERT_EQ(ok.status, 202) << json::serialize(ok.body);
    EXPECT_EQ(ok.body.at("document_number").as_string(), "XXXX4567");
}

TEST_F(KycFlowTest, OnlyAnotherAdminDecidesAndADecisionIsFinalUntilResubmission) {
    std::string id;
    auto user = account("kyc-decide", "investor", &id);
    ASSERT_EQ(call(kSubmitKyc, aadhaar("9999 0000 1119"), user).status, 202)
        << "fixture number must be valid";
    // Non-admins (the user, an agent) cannot decide or list.
    auto agent = account("kyc-agent", "agent", nullptr);
    for (const auto& t : {user, agent}) {
        EXPECT_EQ(call(kApproveKyc, "", t, "10.0.0.1", id).status, 403);
        EXPECT_EQ(call(kKycQueue, "", t).status, 403);
    }
    EXPECT_EQ(call(kMyKyc, "", user).body.at("status").as_string(), "pending");
    std::string admin_id;
    auto admin = account("kyc-admin", "admin", &admin_id);
    auto pending = call(kKycQueue, "", admin);
    ASSERT_EQ(pending.status, 200);
    bool listed = false;
    for (const auto& k : pending.body.at("items").as_array()) {
        listed = listed || k.at("user_id").as_string() == id;
        EXPECT_EQ(k.at("status").as_string(), "pending");
    }
    EXPECT_TRUE(listed);
    // A rejection needs a reason.
    EXPECT_EQ(call(kRejectKyc, "{}", admin, "10.0.0.1", id).status, 422);
    EXPECT_EQ(call(kRejectKyc, R"({"reason":"  "})", admin, "10.0.0.1", id).status, 422);
    auto rejected = call(kRejectKyc, R"({"reason":"photo unreadable"})", admin, "10.0.0.1", id);
    ASSERT_EQ(rejected.status, 200) << json::serialize(rejected.body);
    EXPECT_EQ(rejected.body.at("status").as_string(), "rejected");
    EXPECT_EQ(rejected.body.at("rejection_reason").as_string(), "photo unreadable");
    EXPECT_EQ(call(kApproveKyc, "", admin, "10.0.0.1", id).status, 409);
    // Resubmission after a rejection, then approval.
    auto resubmitted = call(kSubmitKyc, aadhaar("9999 0000 1119"), user);
    ASSERT_EQ(resubmitted.status, 202) << json::serialize(resubmitted.body);
    EXPECT_TRUE(resubmitted.body.at("rejection_reason").is_null());
    auto approved = call(kApproveKyc, "", admin, "10.0.0.1", id);
    ASSERT_EQ(approved.status, 200);
    EXPECT_EQ(approved.body.at("status").as_string(), "approved");
    EXPECT_EQ(call(kSubmitKyc, aadhaar("9999 0000 1119"), user).status, 409);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE aggregate_id = $1 AND type IN "
                    "('user.kyc.submitted', 'user.kyc.rejected', 'user.kyc.approved')",
                    id),
              4);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE entity_id = $1 AND action IN "
                    "('kyc.approve', 'kyc.reject')",
                    id),
              2);
    // Unknown user, and an admin's own submission.
    EXPECT_EQ(
        call(kApproveKyc, "", admin, "10.0.0.1", "00000000-0000-7000-8000-000000000000").status,
        404);
    ASSERT_EQ(call(kSubmitKyc, aadhaar("2000 0000 0009", "1980-01-01"), admin).status, 202);
    EXPECT_EQ(call(kApproveKyc, "", admin, "10.0.0.1", admin_id).status, 403);
}

TEST_F(KycFlowTest, OneUserNeverSeesAnothersKycAndADocumentBelongsToOneAccount) {
    std::string a_id;
    auto a = account("kyc-a", "investor", &a_id);
    auto b = account("kyc-b", "investor", nullptr);
    auto pan = json::serialize(json::object{{"document_type", "pan"},
                                            {"document_number", "abcpe1234f"},
                                            {"full_name", "Asha Rao"},
                                            {"date_of_birth", "1990-05-17"}});
    auto mine = call(kSubmitKyc, pan, a);
    ASSERT_EQ(mine.status, 202) << json::serialize(mine.body);
    EXPECT_EQ(mine.body.at("document_number").as_string(), "XXXXXX234F");
    auto theirs = call(kMyKyc, "", b);
    EXPECT_EQ(theirs.body.at("status").as_string(), "none");
    EXPECT_EQ(theirs.raw.body.find(a_id), std::string::npos);
    // B submits A's PAN (in another spelling): refused, B stays without KYC.
    auto pan_spaced = json::serialize(json::object{{"document_type", "pan"},
                                                   {"document_number", "ABCPE 1234F"},
                                                   {"full_name", "Bo"},
                                                   {"date_of_birth", "1991-01-01"}});
    auto dup = call(kSubmitKyc, pan_spaced, b);
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(dup.body.at("type").as_string(), "https://restinu.dev/problems/kyc-document-in-use");
    EXPECT_EQ(call(kMyKyc, "", b).body.at("status").as_string(), "none");
}

}  // namespace
}  // namespace restinu::user
