// The notification service's own API as `restinu notification` wires it (routes, access rules,
// problems), on a fresh database, each request signed as the gateway sends it: who may read or
// change what, what bad input gets, and the two signed links.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "fresh_database.hpp"
#include "links.hpp"
#include "restinu/notification/service.hpp"
#include "restinu/registry.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "service_client.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;
using Call = testing::ServiceClient::Call;

constexpr std::string_view kSecret = "test-identity-secret-of-at-least-32-chars";

class NotificationApiTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("notifications", "notification"); }

    void SetUp() override {
        auto s = spec();
        s.database = std::string(registry::find("notification")->database);
        const std::string yaml =
            "pg:\n  url: \"" + testenv::pgConninfo() + "\"\n  database: " + db_ +
            "\n  pool_size: 2\nredis:\n  port: " + std::to_string(testenv::redisPort()) +
            "\nidentity:\n  secret: \"" + std::string(kSecret) +
            "\"\nbus:\n  consume: false\nlog:\n  access: false\n"
            "notification:\n  dispatch:\n    enabled: false\n  saved_searches:\n    limit: 2\n"
            "  links:\n    base_url: http://gw.test\n";
        client_ = std::make_unique<testing::ServiceClient>(s, yaml);
    }

    static rt::Identity person() { return rt::Identity{rt::newUuidV7(), {"investor"}, "s"}; }

    testing::ServiceClient::Reply send(rt::Method m, const std::string& target,
                                       const std::optional<rt::Identity>& who,
                                       const std::string& body = "") {
        Call c{m, target, body};
        c.who = who;
        return client_->send(c);
    }

    static std::string typeOf(const testing::ServiceClient::Reply& r) {
        return r.body.is_object() && r.body.as_object().contains("type")
                   ? std::string(r.body.at("type").as_string())
                   : "";
    }

    // The signer the service uses: its key derived from the identity secret.
    static LinkSigner signer() {
        return LinkSigner(rt::hmacSha256Hex(kSecret, "restinu notification links v1"),
                          "http://gw.test", std::chrono::hours(72));
    }

    static inline std::string db_;
    std::unique_ptr<testing::ServiceClient> client_;
};

TEST_F(NotificationApiTest, EveryRouteButTheSignedLinksNeedsACaller) {
    for (auto [m, target] : std::vector<std::pair<rt::Method, std::string>>{
             {rt::Method::Get, "/api/v1/notifications"},
             {rt::Method::Get, "/api/v1/users/me/notification-preferences"},
             {rt::Method::Get, "/api/v1/saved-searches"},
             {rt::Method::Post, "/api/v1/users/me/push-devices"}}) {
        EXPECT_EQ(send(m, target, std::nullopt).status, 401) << target;
    }
}

TEST_F(NotificationApiTest, SavedSearchesAreTheirOwnersOnlyAndBadOnesAre422) {
    auto asha = person();
    auto ravi = person();
    const std::string good =
        R"({"name":"Pune 2 BHK","filters":{"city":"Pune","min_bedrooms":2,"max_price":900000000,"currency":"INR"}})";
    auto created = send(rt::Method::Post, "/api/v1/saved-searches", asha, good);
    ASSERT_EQ(created.status, 201) << created.raw.body;
    const std::string id(created.body.at("id").as_string());
    EXPECT_EQ(created.body.at("filters").at("city"), "Pune");
    EXPECT_EQ(created.body.at("filters").at("max_price"), 900000000);

    auto theirs = send(rt::Method::Get, "/api/v1/saved-searches", ravi);
    EXPECT_EQ(theirs.body.at("items").as_array().size(), 0U) << "Ravi sees none of Asha's";
    EXPECT_EQ(send(rt::Method::Delete, "/api/v1/saved-searches/" + id, ravi).status, 404);

    auto bad = send(rt::Method::Post, "/api/v1/saved-searches", asha,
                    R"({"name":"","filters":{"max_price":-5,"colour":"red","min_price":10}})");
    EXPECT_EQ(bad.status, 422);
    std::set<std::string> fields;
    for (const auto& e : bad.body.at("errors").as_array()) {
        fields.insert(std::string(e.at("field").as_string()));
    }
    EXPECT_EQ(fields, (std::set<std::string>{"name", "filters.max_price", "filters.colour",
                                             "filters.currency"}));
    EXPECT_EQ(send(rt::Method::Post, "/api/v1/saved-searches", asha, "not json").status, 400);

    ASSERT_EQ(send(rt::Method::Post, "/api/v1/saved-searches", asha, good).status, 201);
    auto third = send(rt::Method::Post, "/api/v1/saved-searches", asha, good);
    EXPECT_EQ(third.status, 409);
    EXPECT_TRUE(typeOf(third).ends_with("/too-many-saved-searches")) << third.raw.body;

    EXPECT_EQ(send(rt::Method::Delete, "/api/v1/saved-searches/" + id, asha).status, 204);
    EXPECT_EQ(
        send(rt::Method::Get, "/api/v1/saved-searches", asha).body.at("items").as_array().size(),
        1U);
}

TEST_F(NotificationApiTest, PreferencesRefuseUnknownNamesAndLockedSwitchesAndChangeNothingThen) {
    auto asha = person();
    auto before = send(rt::Method::Get, "/api/v1/users/me/notification-preferences", asha);
    ASSERT_EQ(before.status, 200);
    EXPECT_EQ(before.body.at("categories").at("listing").at("sms"), false) << "SMS is opt-in";
    EXPECT_EQ(before.body.at("categories").at("security").at("sms"), true);

    auto mixed = send(rt::Method::Put, "/api/v1/users/me/notification-preferences", asha,
                      R"({"categories":{"listing":{"email":false},"security":{"in_app":false}}})");
    EXPECT_EQ(mixed.status, 422);
    EXPECT_TRUE(typeOf(mixed).ends_with("/preference-locked")) << mixed.raw.body;
    auto unknown = send(rt::Method::Put, "/api/v1/users/me/notification-preferences", asha,
                        R"({"categories":{"weather":{"email":false},"listing":{"fax":true}}})");
    EXPECT_EQ(unknown.status, 422);
    EXPECT_EQ(send(rt::Method::Get, "/api/v1/users/me/notification-preferences", asha).body,
              before.body)
        << "a refused change changes nothing, not even its valid part";

    auto ok = send(rt::Method::Put, "/api/v1/users/me/notification-preferences", asha,
                   R"({"categories":{"listing":{"email":false,"sms":true}}})");
    ASSERT_EQ(ok.status, 200) << ok.raw.body;
    EXPECT_EQ(ok.body.at("categories").at("listing").at("email"), false);
    EXPECT_EQ(ok.body.at("categories").at("listing").at("sms"), true);
    auto ravi = send(rt::Method::Get, "/api/v1/users/me/notification-preferences", person());
    EXPECT_EQ(ravi.body.at("categories").at("listing").at("email"), true) << "only Asha's";
}

TEST_F(NotificationApiTest, APushDeviceIsRemovedByItsOwnerOnly) {
    auto asha = person();
    EXPECT_EQ(send(rt::Method::Post, "/api/v1/users/me/push-devices", asha,
                   R"({"token":"fcm-token-1","platform":"android"})")
                  .status,
              204);
    EXPECT_EQ(send(rt::Method::Post, "/api/v1/users/me/push-devices", asha,
                   R"({"token":"fcm-token-2","platform":"blackberry"})")
                  .status,
              422);
    EXPECT_EQ(
        send(rt::Method::Delete, "/api/v1/users/me/push-devices/fcm-token-1", person()).status,
        404);
    EXPECT_EQ(send(rt::Method::Delete, "/api/v1/users/me/push-devices/fcm-token-1", asha).status,
              204);
}

TEST_F(NotificationApiTest, TheVerificationLinkEmitsTheEventAndAForgedOneIsRefused) {
    const auto user = rt::newUuidV7();
    const auto url = signer().verifyUrl(user, "asha@example.com", rt::unixSeconds());
    const auto target = url.substr(std::string("http://gw.test").size());
    auto ok = send(rt::Method::Get, target, std::nullopt);
    ASSERT_EQ(ok.status, 200) << ok.raw.body;
    EXPECT_EQ(ok.body.at("email"), "asha@example.com");

    rt::PgOptions o;
    o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
    o.size = 1;
    rt::PgPool pool(client_->io(), o);
    auto r = rt::runBlocking(client_->io(),
                             pool.query("SELECT data::text FROM restinu_outbox WHERE type = "
                                        "'notification.email_verified' AND aggregate_id = $1",
                                        user));
    ASSERT_EQ(r.rows(), 1U);
    EXPECT_EQ(json::parse(r.get(0, 0)).at("email"), "asha@example.com");
    pool.close();

    const auto other_key = LinkSigner(std::string(40, 'x'), "http://gw.test", std::chrono::hours(1))
                               .verifyUrl(user, "asha@example.com", rt::unixSeconds());
    auto forged = send(rt::Method::Get, other_key.substr(14), std::nullopt);
    EXPECT_EQ(forged.status, 400);
    EXPECT_TRUE(typeOf(forged).ends_with("/invalid-link")) << forged.raw.body;
    EXPECT_EQ(send(rt::Method::Get, "/api/v1/notifications/verify-email", std::nullopt).status,
              400);
}

TEST_F(NotificationApiTest, AnUnsubscribeLinkSwitchesThatCategorysEmailOff) {
    auto asha = person();
    const auto url = signer().unsubscribeUrl(asha.user_id, "saved_search");
    auto r = send(rt::Method::Post, url.substr(std::string("http://gw.test").size()), std::nullopt,
                  "List-Unsubscribe=One-Click");
    ASSERT_EQ(r.status, 200) << r.raw.body;
    auto prefs = send(rt::Method::Get, "/api/v1/users/me/notification-preferences", asha);
    EXPECT_EQ(prefs.body.at("categories").at("saved_search").at("email"), false);
    EXPECT_EQ(prefs.body.at("categories").at("saved_search").at("in_app"), true);
}

}  // namespace
}  // namespace restinu::notification
