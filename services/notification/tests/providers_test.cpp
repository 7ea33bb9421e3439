// The e-mail, push and SMS adapters against loopback stand-ins of SendGrid, Google and Twilio;
// the requests expected are written from the providers' documentation.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>

#include "async_test.hpp"
#include "fcm.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/curl.hpp"
#include "restinu/rt/router.hpp"
#include "sendgrid.hpp"
#include "test_server.hpp"
#include "twilio.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;
namespace net = boost::asio;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Seen {
    std::string request;  ///< "POST /path"
    std::string authorization, content_type, body;
};

struct Answer {
    int status = 200;
    std::string body;
    Fields headers = {};
    std::chrono::milliseconds delay{0};
};

// A provider on loopback answering POST on each path: a path's answers are used in order and
// the last one repeats. Its server has a thread of its own, hence the lock.
class StandIn {
public:
    explicit StandIn(const Strings& paths) {
        rt::Router router;
        for (const auto& path : paths) {
            router.post(path, rt::Access::none(),
                        [this, path](rt::Request& req) { return respond(req, path); });
        }
        server_ = std::make_unique<testing::ServerThread>(std::move(router));
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
    void answer(const std::string& path, std::vector<Answer> list) {
        std::lock_guard lock(mu_);
        answers_[path] = {list.begin(), list.end()};
    }
    std::vector<Seen> heard(const std::string& path) {
        std::lock_guard lock(mu_);
        return seen_[path];
    }

private:
    rt::Task<rt::Response> respond(rt::Request& req, std::string path) {
        Answer a{404, "{}"};
        {
            std::lock_guard lock(mu_);
            seen_[path].push_back({std::string(req.method_name) + " " + std::string(req.path),
                                   std::string(req.header("Authorization")),
                                   std::string(req.header("Content-Type")), std::string(req.body)});
            auto& queue = answers_[path];
            a = queue.empty() ? a : queue.front();
            if (queue.size() > 1) {
                queue.pop_front();
            }
        }
        if (a.delay > 0ms) {
            co_await testing::sleepFor(a.delay);
        }
        rt::Response res(a.status, "application/json", a.body);
        res.headers = a.headers;
        co_return res;
    }

    std::mutex mu_;
    std::map<std::string, std::deque<Answer>> answers_;
    std::map<std::string, std::vector<Seen>> seen_;
    std::unique_ptr<testing::ServerThread> server_;  // last: stops before the rest goes
};

// Sends `messages` through one channel made by `make`: one after another, or all at once.
template <class Make>
std::vector<SendResult> sendAll(Make make, const std::vector<Outgoing>& messages,
                                bool at_once = false) {
    std::vector<SendResult> results;
    testing::runAsync([&](net::io_context& io) -> rt::Task<void> {
        rt::Curl curl(io);
        auto channel = make(curl);
        for (const auto& m : messages) {
            auto send = [&]() -> rt::Task<void> {
                auto result = co_await channel->send(m);
                results.push_back(std::move(result));
            };
            if (at_once) {
                net::co_spawn(io, send, net::detached);
            } else {
                co_await send();
            }
        }
        while (results.size() < messages.size()) {
            co_await testing::sleepFor(5ms);
        }
    });
    return results;
}

// "sent", "retry" or "permanent" for each result, for one readable comparison.
Strings outcomes(const std::vector<SendResult>& results) {
    Strings out;
    for (const auto& r : results) {
        static const char* const kNames[] = {"sent", "retry", "permanent"};
        out.emplace_back(kNames[static_cast<int>(r.outcome)]);
    }
    return out;
}

bool says(const SendResult& r, std::string_view words) {
    return r.detail.find(words) != std::string::npos;
}

bool anySays(const std::vector<SendResult>& results, std::string_view words) {
    return std::any_of(results.begin(), results.end(), [&](auto& r) { return says(r, words); });
}

// application/x-www-form-urlencoded fields, decoded the way a server's query string is.
std::map<std::string, std::string> parseForm(std::string_view body) {
    rt::Request as_query;
    as_query.query = body;
    const auto fields = as_query.queryParams().value_or(Fields{{"<bad escape>", ""}});
    return {fields.begin(), fields.end()};
}

Outgoing message(std::string to, std::string subject, std::string text) {
    Outgoing m;
    m.message_id = "0b6f3c2e-8d4a-4f7e-9a51-3c1d2e4f5a6b";
    m.to = std::move(to);
    m.subject = std::move(subject);
    m.text = std::move(text);
    return m;
}

// --- SendGrid --------------------------------------------------------------------------------

constexpr const char* kMailSend = "/v3/mail/send";

auto sendGrid(const std::string& url) {
    return [url](rt::Curl& curl) {
        return std::make_unique<SendGridChannel>(
            curl, SendGridSettings{url, "SG.test-api-key", "alerts@restinu.example", "REST-iN-U",
                                   5000ms});
    };
}

Outgoing marketingMail() {
    auto m =
        message("asha@example.com", "3 new flats in Pune", "3 new listings match \"Pune, 2 BHK\".");
    m.to_name = "Asha Rao";
    m.html = "<p>3 new listings match &quot;Pune, 2 BHK&quot;.</p>";
    m.category = "marketing";
    m.unsubscribe = "https://restinu.example/unsubscribe?t=abc";
    return m;
}

Answer sendGridRefusal(int status, const std::string& message) {
    return {status, R"({"errors":[{"message":")" + message + R"(","field":null,"help":null}]})"};
}

TEST(SendGridChannel, SendsTheExactV3MailSendRequest) {
    StandIn sendgrid({kMailSend});
    sendgrid.answer(kMailSend, {{202, "", {{"X-Message-Id", "W86EgYT6SQKk0lRflfLRsA"}}}});
    auto security = marketingMail();
    security.category = "security";
    security.unsubscribe.clear();
    const auto results = sendAll(sendGrid(sendgrid.url()), {marketingMail(), security});
    EXPECT_EQ(outcomes(results), (Strings{"sent", "sent"})) << results.at(0).detail;
    EXPECT_EQ(results[0].provider_id, "W86EgYT6SQKk0lRflfLRsA");
    const auto seen = sendgrid.heard(kMailSend);
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen[0].request, "POST /v3/mail/send");
    EXPECT_EQ(seen[0].authorization, "Bearer SG.test-api-key");
    EXPECT_EQ(seen[0].content_type, "application/json");
    auto expected = json::parse(R"({
        "personalizations": [{"to": [{"email": "asha@example.com", "name": "Asha Rao"}]}],
        "from": {"email": "alerts@restinu.example", "name": "REST-iN-U"},
        "subject": "3 new flats in Pune",
        "content": [
            {"type": "text/plain", "value": "3 new listings match \"Pune, 2 BHK\"."},
            {"type": "text/html", "value": "<p>3 new listings match &quot;Pune, 2 BHK&quot;.</p>"}
        ],
        "custom_args": {"message_id": "0b6f3c2e-8d4a-4f7e-9a51-3c1d2e4f5a6b"},
        "headers": {
            "List-Unsubscribe": "<https://restinu.example/unsubscribe?t=abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"
        }
    })");
    EXPECT_EQ(json::parse(seen[0].body), expected);
    // Mail that is not marketing has no unsubscribe headers, and is otherwise the same.
    expected.as_object().erase("headers");
    EXPECT_EQ(json::parse(seen[1].body), expected);
}

TEST(SendGridChannel, RetriesRateLimitsServerErrorsAndSilenceAndGivesUpOnOtherRefusals) {
    StandIn sendgrid({kMailSend});
    sendgrid.answer(kMailSend, {sendGridRefusal(400, "The from address is not verified."),
                                sendGridRefusal(401, "The provided authorization is invalid."),
                                sendGridRefusal(429, "too many requests"),
                                {500, "oops"}});
    const auto results =
        sendAll(sendGrid(sendgrid.url()), std::vector<Outgoing>(4, marketingMail()));
    EXPECT_EQ(outcomes(results), (Strings{"permanent", "permanent", "retry", "retry"}));
    EXPECT_TRUE(says(results.at(0), "400: The from address is not verified.")) << results[0].detail;
    EXPECT_TRUE(says(results.at(3), "500")) << results[3].detail;
    EXPECT_FALSE(anySays(results, "SG.test-api-key"));
    EXPECT_EQ(outcomes(sendAll(sendGrid("http://127.0.0.1:1"), {marketingMail()})),
              Strings{"retry"});
    EXPECT_EQ(outcomes(sendAll(sendGrid("ftp://127.0.0.1:1"), {marketingMail()})),
              Strings{"permanent"});
}

// --- FCM -------------------------------------------------------------------------------------

constexpr const char* kToken = "/token";
constexpr const char* kFcmSend = "/v1/projects/test-project/messages:send";
constexpr const char* kClientEmail = "push@test-project.iam.gserviceaccount.com";

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

// One 2048-bit RSA key for the run: private in PKCS #8 PEM as Google issues them, public alone.
const std::pair<std::string, Key>& testKey() {
    static const auto key = [] {
        const Key pair(EVP_RSA_gen(2048), &EVP_PKEY_free);
        const Bio priv(BIO_new(BIO_s_mem()), &BIO_free);
        const Bio pub(BIO_new(BIO_s_mem()), &BIO_free);
        PEM_write_bio_PrivateKey(priv.get(), pair.get(), nullptr, nullptr, 0, nullptr, nullptr);
        PEM_write_bio_PUBKEY(pub.get(), pair.get());
        char* data = nullptr;
        const long n = BIO_get_mem_data(priv.get(), &data);
        return std::pair(
            std::string(data, static_cast<std::size_t>(n)),
            Key(PEM_read_bio_PUBKEY(pub.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free));
    }();
    return key;
}

Answer tokenAnswer(const std::string& token, int expires_in = 3599) {
    return {200, R"({"access_token":")" + token + R"(","expires_in":)" +
                     std::to_string(expires_in) + R"(,"token_type":"Bearer"})"};
}

const Answer kFcmOk{200, R"({"name":"projects/test-project/messages/0:15004%31bd1c96"})"};

// Google's token endpoint and FCM in one stand-in (a token, then 200), and a service-account
// file (in the temp directory) whose token_uri points there unless told otherwise.
struct Google {
    explicit Google(const std::string& token_uri = {}, const std::string& key = testKey().first) {
        static int count = 0;
        account = ::testing::TempDir() + "fcm_account_" + std::to_string(::getpid()) + "_" +
                  std::to_string(++count) + ".json";
        const json::object fields{
            {"project_id", "test-project"},
            {"private_key", key},
            {"client_email", kClientEmail},
            {"token_uri", token_uri.empty() ? stand_in.url() + kToken : token_uri}};
        std::ofstream(account) << json::serialize(fields);
        stand_in.answer(kToken, {tokenAnswer("ya29.first")});
        stand_in.answer(kFcmSend, {kFcmOk});
    }
    ~Google() { std::remove(account.c_str()); }
    auto channel(std::string fcm_url = {}) const {
        fcm_url = fcm_url.empty() ? stand_in.url() : fcm_url;
        return [fcm_url, file = account](rt::Curl& curl) {
            return std::make_unique<FcmChannel>(curl, FcmSettings{fcm_url, file, "", 5000ms});
        };
    }

    StandIn stand_in{{kToken, kFcmSend}};
    std::string account;
};

Answer fcmError(int status, const std::string& google_status, const std::string& fcm_code) {
    return {status, R"({"error":{"code":)" + std::to_string(status) +
                        R"(,"message":"refused","status":")" + google_status +
                        R"(","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.)" +
                        R"(FcmError","errorCode":")" + fcm_code + R"("}]}})"};
}

Outgoing push() {
    auto m = message("fcm-device-token-1", "Price drop", "A flat you saved is now ₹85 lakh");
    m.data_json = R"({"listing_id":"L-42","price":8500000,"tags":["new"],"seen":false})";
    return m;
}

// Part `i` of a JWT (0 header, 1 claims, 2 signature), base64url-decoded.
std::string jwtPart(const std::string& jwt, int i) {
    const std::size_t dots[] = {std::string::npos, jwt.find('.'), jwt.rfind('.'), jwt.size()};
    return rt::base64UrlDecode(jwt.substr(dots[i] + 1, dots[i + 1] - dots[i] - 1)).value_or("");
}

bool rs256Verifies(const std::string& jwt, EVP_PKEY* public_key) {
    const auto signature = jwtPart(jwt, 2);
    const auto* signed_part = reinterpret_cast<const unsigned char*>(jwt.data());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), signed_part, jwt.rfind('.')) == 1;
}

TEST(FcmChannel, SendsTheExactV1MessageWithATokenFromASignedServiceAccountJwt) {
    Google google;
    const auto before = rt::unixSeconds();
    const auto results = sendAll(google.channel(), {push()});
    const auto after = rt::unixSeconds();
    EXPECT_EQ(outcomes(results), Strings{"sent"}) << results.at(0).detail;
    EXPECT_EQ(results[0].provider_id, "projects/test-project/messages/0:15004%31bd1c96");
    const auto token_calls = google.stand_in.heard(kToken);
    ASSERT_EQ(token_calls.size(), 1U);
    EXPECT_EQ(token_calls[0].request, "POST /token");
    EXPECT_EQ(token_calls[0].content_type, "application/x-www-form-urlencoded");
    const auto form = parseForm(token_calls[0].body);
    EXPECT_EQ(form.size(), 2U);
    EXPECT_EQ(form.at("grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
    const auto& jwt = form.at("assertion");
    EXPECT_TRUE(rs256Verifies(jwt, testKey().second.get()));
    EXPECT_EQ(json::parse(jwtPart(jwt, 0)), json::parse(R"({"alg":"RS256","typ":"JWT"})"));
    const auto claims = json::parse(jwtPart(jwt, 1));
    const auto iat = claims.at("iat").as_int64();
    EXPECT_TRUE(iat >= before && iat <= after) << iat;
    const json::object expected_claims{
        {"iss", kClientEmail},
        {"scope", "https://www.googleapis.com/auth/firebase.messaging"},
        {"aud", google.stand_in.url() + kToken},
        {"iat", iat},
        {"exp", iat + 3600}};
    EXPECT_EQ(claims.as_object(), expected_claims);
    const auto sends = google.stand_in.heard(kFcmSend);
    ASSERT_EQ(sends.size(), 1U);
    EXPECT_EQ(sends[0].request, "POST /v1/projects/test-project/messages:send");
    EXPECT_EQ(sends[0].authorization, "Bearer ya29.first");
    EXPECT_EQ(sends[0].content_type, "application/json");
    EXPECT_EQ(json::parse(sends[0].body), json::parse(R"({"message": {
        "token": "fcm-device-token-1",
        "notification": {"title": "Price drop", "body": "A flat you saved is now ₹85 lakh"},
        "data": {"listing_id": "L-42", "price": "8500000", "tags": "[\"new\"]", "seen": "false"}
    }})"));
}

TEST(FcmChannel, KeepsTheTokenUntilAMinuteBeforeItExpires) {
    Google google;
    const auto results = sendAll(google.channel(), {push(), push()});
    EXPECT_EQ(outcomes(results), (Strings{"sent", "sent"}));
    EXPECT_EQ(google.stand_in.heard(kToken).size(), 1U);
    EXPECT_EQ(google.stand_in.heard(kFcmSend).at(1).authorization, "Bearer ya29.first");
    // A token that lives 59 s is already inside the last minute: each send asks again.
    google.stand_in.answer(kToken, {tokenAnswer("ya29.short", 59)});
    sendAll(google.channel(), {push(), push()});
    EXPECT_EQ(google.stand_in.heard(kToken).size(), 3U);
}

TEST(FcmChannel, SendsThatNeedATokenAtOnceWaitForOneTokenRequest) {
    Google google;
    google.stand_in.answer(kToken, {{200, tokenAnswer("ya29.first").body, {}, 300ms}});
    const auto results = sendAll(google.channel(), {push(), push(), push()}, true);
    EXPECT_EQ(outcomes(results), (Strings{"sent", "sent", "sent"}));
    EXPECT_EQ(google.stand_in.heard(kToken).size(), 1U);
    EXPECT_EQ(google.stand_in.heard(kFcmSend).size(), 3U);
}

TEST(FcmChannel, A401DropsTheTokenAndTheNextSendFetchesANewOne) {
    Google google;
    google.stand_in.answer(kToken, {tokenAnswer("ya29.first"), tokenAnswer("ya29.second")});
    google.stand_in.answer(kFcmSend, {fcmError(401, "UNAUTHENTICATED", "UNAUTHENTICATED"), kFcmOk});
    const auto results = sendAll(google.channel(), {push(), push()});
    EXPECT_EQ(outcomes(results), (Strings{"retry", "sent"}));
    EXPECT_EQ(google.stand_in.heard(kToken).size(), 2U);
    EXPECT_EQ(google.stand_in.heard(kFcmSend).at(1).authorization, "Bearer ya29.second");
}

TEST(FcmChannel, GivesUpOnUnregisteredAndInvalidMessagesAndRetriesOverload) {
    Google google;
    google.stand_in.answer(kFcmSend, {fcmError(404, "NOT_FOUND", "UNREGISTERED"),
                                      fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
                                      fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
                                      fcmError(500, "INTERNAL", "INTERNAL"),
                                      fcmError(503, "UNAVAILABLE", "UNAVAILABLE")});
    const auto results = sendAll(google.channel(), std::vector<Outgoing>(5, push()));
    EXPECT_EQ(outcomes(results), (Strings{"permanent", "permanent", "retry", "retry", "retry"}));
    EXPECT_TRUE(says(results.at(0), "404 UNREGISTERED")) << results[0].detail;
    EXPECT_TRUE(says(results.at(1), "400 INVALID_ARGUMENT")) << results[1].detail;
    EXPECT_FALSE(anySays(results, "ya29"));
}

TEST(FcmChannel, RetriesWhenTheTokenEndpointOrFcmFailsAndNeverQuotesTheAssertion) {
    Google google;
    google.stand_in.answer(
        kToken,
        {{400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"}});
    const auto refused = sendAll(google.channel(), {push()});
    EXPECT_EQ(outcomes(refused), Strings{"retry"});
    EXPECT_TRUE(says(refused.at(0), "invalid_grant")) << refused[0].detail;
    EXPECT_FALSE(says(refused.at(0), "eyJ")) << refused[0].detail;  // a JWT's first bytes
    EXPECT_TRUE(google.stand_in.heard(kFcmSend).empty());
    const Google unreachable_token("http://127.0.0.1:1/token");
    EXPECT_EQ(outcomes(sendAll(unreachable_token.channel(), {push()})), Strings{"retry"});
    google.stand_in.answer(kToken, {tokenAnswer("ya29.first")});
    EXPECT_EQ(outcomes(sendAll(google.channel("http://127.0.0.1:1"), {push()})), Strings{"retry"});
}

TEST(FcmChannel, RefusesAServiceAccountItCannotUseWhenConstructed) {
    net::io_context io;
    rt::Curl curl(io);
    const FcmSettings missing{"http://127.0.0.1:1", "/nonexistent/account.json", "", 5000ms};
    EXPECT_THROW(FcmChannel(curl, missing), std::runtime_error);
    const Google not_a_key({}, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    EXPECT_THROW(not_a_key.channel()(curl), std::runtime_error);
}

// --- Twilio ----------------------------------------------------------------------------------

constexpr const char* kMessages =
    "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

auto twilio(const std::string& url) {
    return [url](rt::Curl& curl) {
        return std::make_unique<TwilioChannel>(
            curl, TwilioSettings{url, "AC0123456789abcdef0123456789abcdef", "test-auth-token",
                                 "+15005550006", 5000ms});
    };
}

Outgoing sms() {
    return message("+919812345678", "", "Your viewing at 4 pm & the code is 1234+5");
}

Answer twilioRefusal(int status, int code) {
    return {status, R"({"code":)" + std::to_string(code) + R"(,"message":"refused","status":)" +
                        std::to_string(status) + "}"};
}

TEST(TwilioChannel, SendsTheExactMessagesRequestWithBasicAuth) {
    StandIn twilio_api({kMessages});
    twilio_api.answer(kMessages,
                      {{201, R"({"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"})"}});
    const auto results = sendAll(twilio(twilio_api.url()), {sms()});
    EXPECT_EQ(outcomes(results), Strings{"sent"}) << results.at(0).detail;
    EXPECT_EQ(results[0].provider_id, "SM0123456789abcdef0123456789abcdef");
    const auto seen = twilio_api.heard(kMessages);
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].request, std::string("POST ") + kMessages);
    // base64("AC0123456789abcdef0123456789abcdef:test-auth-token"), by coreutils' base64.
    EXPECT_EQ(seen[0].authorization,
              "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0ZXN0LWF1dGgtdG9rZW4=");
    EXPECT_EQ(seen[0].content_type, "application/x-www-form-urlencoded");
    const std::map<std::string, std::string> expected = {
        {"To", "+919812345678"},
        {"From", "+15005550006"},
        {"Body", "Your viewing at 4 pm & the code is 1234+5"}};
    EXPECT_EQ(parseForm(seen[0].body), expected);
    // A bare '+' in a form is a space, so every '+' is escaped; a space goes as %20.
    EXPECT_EQ(seen[0].body.find('+'), std::string::npos) << seen[0].body;
    EXPECT_NE(seen[0].body.find("Your%20viewing"), std::string::npos) << seen[0].body;
}

TEST(TwilioChannel, GivesUpOnInvalidNumbersAndRetriesRateLimitsServerErrorsAndSilence) {
    StandIn twilio_api({kMessages});
    twilio_api.answer(kMessages, {twilioRefusal(400, 21211),
                                  twilioRefusal(400, 21614),
                                  twilioRefusal(401, 20003),
                                  twilioRefusal(429, 20429),
                                  {500, "x"}});
    const auto results = sendAll(twilio(twilio_api.url()), std::vector<Outgoing>(5, sms()));
    EXPECT_EQ(outcomes(results),
              (Strings{"permanent", "permanent", "permanent", "retry", "retry"}));
    EXPECT_TRUE(says(results.at(0), "21211")) << results[0].detail;
    EXPECT_TRUE(says(results.at(1), "21614")) << results[1].detail;
    EXPECT_FALSE(anySays(results, "test-auth-token") || anySays(results, "QUMw"));
    EXPECT_EQ(outcomes(sendAll(twilio("http://127.0.0.1:1"), {sms()})), Strings{"retry"});
}

}  // namespace
}  // namespace restinu::notification
