// From event to delivered message on real parts: the planner in a transaction on a fresh
// notifications database, the dispatcher sending through the SMTP server of `make test`
// (tools/mailsink) and publishing in-app items on its Redis.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dispatcher.hpp"
#include "fresh_database.hpp"
#include "live.hpp"
#include "message_store.hpp"
#include "planner.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/curl.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/metrics.hpp"
#include "restinu/rt/redis.hpp"
#include "saved_search_store.hpp"
#include "smtp.hpp"

namespace restinu::notification {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace ct = contracts;

class DeliveryTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { db_ = testenv::freshDatabase("notifications", "notification"); }

    void SetUp() override {
        rt::PgOptions o;
        o.conninfo = testenv::pgConninfo() + " dbname=" + db_;
        o.size = 4;
        pool_ = std::make_unique<rt::PgPool>(io_, o);
        rt::RedisOptions r;
        r.port = testenv::redisPort();
        redis_ = std::make_unique<rt::Redis>(io_, r);
        curl_ = std::make_unique<rt::Curl>(io_);
        SmtpSettings s;
        s.url = "smtp://127.0.0.1:" + testenv::require("RESTINU_TEST_SMTP_PORT");
        smtp_ = std::make_unique<SmtpChannel>(*curl_, s);
        live_ = std::make_unique<LiveChannel>(*redis_);
        std::map<std::string, Route> routes{{"email", {smtp_.get(), {3, 20ms, 50ms}}},
                                            {"in_app", {live_.get(), {3, 20ms, 50ms}}}};
        DispatchSettings d;
        d.lease = 5s;
        dispatcher_ = std::make_unique<Dispatcher>(io_, *pool_, o.conninfo, routes, d, metrics_);
        fs::remove(hold());
    }
    void TearDown() override {
        fs::remove(hold());
        dispatcher_.reset();
        pool_->close();
        redis_->close();
    }

    static std::string hold() { return testenv::require("RESTINU_TEST_SMTP_HOLD_FILE"); }

    void apply(const rt::Event& e) {
        rt::runBlocking(io_, pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await planner_.apply(tx, e);
        }));
    }
    std::size_t dispatch() { return rt::runBlocking(io_, dispatcher_->runOnce()); }
    std::int64_t count(const std::string& sql, const std::string& param) {
        auto r = rt::runBlocking(io_, pool_->query(sql, param));
        return r.getInt(0, 0);
    }
    std::string text(const std::string& sql, const std::string& param) {
        auto r = rt::runBlocking(io_, pool_->query(sql, param));
        return r.rows() == 0 ? "" : std::string(r.get(0, 0));
    }

    // A user.registered event for a new account; returns its id.
    std::string registered(const std::string& email, rt::Event* out = nullptr) {
        auto id = rt::newUuidV7();
        const ct::UserRegistered u{id, email, "investor", "Asha", "en"};
        auto e = rt::makeEvent(std::string(u.kType), "user", id, u.data());
        apply(e);
        if (out != nullptr) {
            *out = e;
        }
        return id;
    }

    // Messages the sink received for `address` (by their envelope files).
    static int mailsTo(const std::string& address) {
        int n = 0;
        for (const auto& f : fs::directory_iterator(testenv::require("RESTINU_TEST_MAIL_DIR"))) {
            if (f.path().extension() != ".json" || f.path().filename().string().starts_with(".")) {
                continue;
            }
            std::ifstream in(f.path());
            std::string body((std::istreambuf_iterator<char>(in)), {});
            n += body.find("\"" + address + "\"") != std::string::npos ? 1 : 0;
        }
        return n;
    }

    static rt::Event listingActive(const std::string& owner, const std::string& city,
                                   std::int64_t price) {
        const auto id = rt::newUuidV7();
        boost::json::object row{{"id", id},
                                {"owner_id", owner},
                                {"title", "2 BHK"},
                                {"city", city},
                                {"status", "active"},
                                {"property_type", "apartment"},
                                {"price_minor", price},
                                {"currency", "INR"},
                                {"bedrooms", 2}};
        const ct::PropertyChanged c{boost::json::serialize(row), 2, "draft", "active"};
        return rt::makeEvent(std::string(ct::PropertyChanged::kStatusChanged), "property", id,
                             c.data());
    }

    static inline std::string db_;
    boost::asio::io_context io_;
    rt::MetricsRegistry metrics_;
    std::unique_ptr<rt::PgPool> pool_;
    std::unique_ptr<rt::Redis> redis_;
    std::unique_ptr<rt::Curl> curl_;
    std::unique_ptr<SmtpChannel> smtp_;
    std::unique_ptr<LiveChannel> live_;
    std::unique_ptr<Dispatcher> dispatcher_;
    LinkSigner links_{std::string(40, 'k'), "http://gw.test", std::chrono::hours(72)};
    Planner planner_{links_, {"email"}, "http://app.test"};
};

TEST_F(DeliveryTest, AnEventAppliedTwiceQueuesItsMessagesOnce) {
    rt::Event e;
    const auto user = registered("twice@example.com", &e);
    apply(e);  // redelivered (or replayed by an operator)
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid", user), 2);
    EXPECT_EQ(count("SELECT count(*) FROM notifications WHERE user_id = $1::uuid", user), 1);
    EXPECT_EQ(count("SELECT count(*) FROM delivery_log l JOIN messages m ON m.id = l.message_id "
                    "WHERE m.user_id = $1::uuid AND l.outcome = 'queued'",
                    user),
              2);
}

TEST_F(DeliveryTest, TheDispatcherSendsTheMailOverSmtpAndLogsIt) {
    // The sink's folder outlives this binary: an address of this run alone.
    const auto address = "sent-" + rt::newUuidV7() + "@example.com";
    const auto user = registered(address);
    EXPECT_GE(dispatch(), 2U);
    EXPECT_EQ(mailsTo(address), 1);
    EXPECT_EQ(
        text("SELECT status FROM messages WHERE user_id = $1::uuid AND channel = 'email'", user),
        "sent");
    EXPECT_EQ(
        text("SELECT status FROM messages WHERE user_id = $1::uuid AND channel = 'in_app'", user),
        "sent");
    EXPECT_EQ(count("SELECT count(*) FROM delivery_log l JOIN messages m ON m.id = l.message_id "
                    "WHERE m.user_id = $1::uuid AND l.outcome = 'sent'",
                    user),
              2);
    EXPECT_EQ(dispatch(), 0U) << "a sent message is not sent again";
}

TEST_F(DeliveryTest, ARefusingServerIsRetriedWithBackoffThenTheMessageIsDead) {
    std::ofstream(hold()).put('x');
    const auto address = "refused-" + rt::newUuidV7() + "@example.com";
    const auto user = registered(address);
    for (int i = 0; i < 40; ++i) {  // three attempts, 20-50 ms apart
        dispatch();
        if (text("SELECT status FROM messages WHERE user_id = $1::uuid AND channel = 'email'",
                 user) == "dead") {
            break;
        }
        std::this_thread::sleep_for(30ms);
    }
    EXPECT_EQ(
        text("SELECT status FROM messages WHERE user_id = $1::uuid AND channel = 'email'", user),
        "dead");
    EXPECT_EQ(text("SELECT string_agg(l.outcome, ',' ORDER BY l.id) FROM delivery_log l JOIN "
                   "messages m ON m.id = l.message_id WHERE m.user_id = $1::uuid AND "
                   "m.channel = 'email'",
                   user),
              "queued,failed,failed,dead");
    EXPECT_NE(
        text("SELECT last_error FROM messages WHERE user_id = $1::uuid AND channel = 'email'", user)
            .find("421"),
        std::string::npos);
    EXPECT_EQ(mailsTo(address), 0);

    // The operator fixes the server and sends the dead message again (restinu notification
    // requeue): it goes out once, and the log tells the whole story.
    fs::remove(hold());
    const auto dead = rt::runBlocking(io_, MessageStore::list(*pool_, "dead", user, 10));
    ASSERT_EQ(dead.size(), 1U);
    EXPECT_EQ(dead[0].channel, "email");
    EXPECT_EQ(rt::runBlocking(io_, MessageStore::requeueDead(*pool_, {dead[0].id})), 1);
    EXPECT_EQ(rt::runBlocking(io_, MessageStore::requeueDead(*pool_, {dead[0].id})), 0)
        << "only a dead message is queued again";
    dispatch();
    EXPECT_EQ(mailsTo(address), 1);
    EXPECT_EQ(text("SELECT string_agg(l.outcome, ',' ORDER BY l.id) FROM delivery_log l JOIN "
                   "messages m ON m.id = l.message_id WHERE m.user_id = $1::uuid AND "
                   "m.channel = 'email'",
                   user),
              "queued,failed,failed,dead,queued,sent");
}

TEST_F(DeliveryTest, AnAddressNoServerWouldTakeIsDeadAtOnce) {
    const auto user = registered("no-at-sign");
    dispatch();
    EXPECT_EQ(text("SELECT status || ':' || attempts FROM messages WHERE user_id = $1::uuid "
                   "AND channel = 'email'",
                   user),
              "dead:1");
}

TEST_F(DeliveryTest, PreferencesChooseTheChannelsButSecurityMessagesAlwaysGo) {
    const auto user = registered("prefs@example.com");
    rt::runBlocking(io_, pool_->query("INSERT INTO preferences VALUES ($1::uuid, 'account', "
                                      "'email', false), ($1::uuid, 'security', 'email', false)",
                                      user));
    const ct::KycDecided k{true, user, "admin", ""};
    apply(rt::makeEvent(std::string(k.type()), "user", user, k.data()));
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND "
                    "template = 'kyc_approved' AND channel = 'email'",
                    user),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND "
                    "template = 'kyc_approved' AND channel = 'in_app'",
                    user),
              1);
    const ct::UserNewDevice d{user, "Firefox/140", "203.0.113.9"};
    apply(rt::makeEvent(std::string(d.kType), "user", user, d.data()));
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND "
                    "template = 'new_device' AND channel = 'email'",
                    user),
              1)
        << "security e-mail is locked on, whatever is stored";
}

TEST_F(DeliveryTest, APhoneFromTheProfileBringsSecurityMessagesBySmsWhenSmsIsConfigured) {
    const Planner with_sms{links_, {"email", "sms"}, "http://app.test"};
    const auto user = registered("phone@example.com");
    const ct::UserProfileChanged p{user, "phone@example.com", "Asha", "+919876543210", "hi"};
    const ct::UserNewDevice d{user, "Laptop/2.0", "203.0.113.9"};
    const auto profile = rt::makeEvent(std::string(p.kType), "user", user, p.data());
    const auto device = rt::makeEvent(std::string(d.kType), "user", user, d.data());
    rt::runBlocking(io_, pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await with_sms.apply(tx, profile);
        co_await with_sms.apply(tx, device);
    }));
    EXPECT_EQ(
        text("SELECT address FROM messages WHERE user_id = $1::uuid AND channel = 'sms'", user),
        "+919876543210");
    EXPECT_NE(text("SELECT subject FROM messages WHERE user_id = $1::uuid AND channel = 'email' "
                   "AND template = 'new_device'",
                   user)
                  .find("साइन-इन"),
              std::string::npos)
        << "the profile's language (hi) is used from then on";
    const ct::KycDecided k{true, user, "admin", ""};
    const auto kyc = rt::makeEvent(std::string(k.type()), "user", user, k.data());
    rt::runBlocking(io_, pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await with_sms.apply(tx, kyc);
    }));
    EXPECT_EQ(
        count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND channel = 'sms'", user),
        1)
        << "SMS outside security is off until the user switches it on";
}

TEST_F(DeliveryTest, ASavedSearchAlertsAtMostOnceADayAndNeverForTheSearchersOwnListing) {
    const auto searcher = registered("searcher@example.com");
    const auto owner = registered("owner@example.com");
    SavedSearch s;
    s.id = rt::newUuidV7();
    s.user_id = searcher;
    s.name = "Pune under 1 crore";
    s.city = "pune";
    s.max_price = 1'000'000'000;
    s.currency = "INR";
    ASSERT_TRUE(rt::runBlocking(io_, SavedSearchStore::create(*pool_, s, 20)));
    apply(listingActive(owner, "Mumbai", 500'000'000));   // another city
    apply(listingActive(owner, "Pune", 2'000'000'000));   // over the budget
    apply(listingActive(searcher, "Pune", 500'000'000));  // the searcher's own
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND "
                    "template = 'saved_search_match'",
                    searcher),
              0);
    apply(listingActive(owner, "Pune", 800'000'000));
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND "
                    "template = 'saved_search_match' AND channel = 'email'",
                    searcher),
              1);
    EXPECT_NE(text("SELECT body_text FROM messages WHERE user_id = $1::uuid AND "
                   "template = 'saved_search_match' AND channel = 'email'",
                   searcher)
                  .find("₹80,00,000"),
              std::string::npos);
    EXPECT_EQ(text("SELECT unsubscribe <> '' FROM messages WHERE user_id = $1::uuid AND "
                   "template = 'saved_search_match' AND channel = 'email'",
                   searcher),
              "t");
    apply(listingActive(owner, "Pune", 700'000'000));  // the same day
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND "
                    "template = 'saved_search_match' AND channel = 'email'",
                    searcher),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE user_id = $1::uuid AND "
                    "template = 'listing_published'",
                    owner),
              8)
        << "the owner hears of each of their four listings, by e-mail and in-app";
}

}  // namespace
}  // namespace restinu::notification
