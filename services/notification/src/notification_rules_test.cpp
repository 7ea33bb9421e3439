// The notification service's pure parts: signed links, templates, the MIME message, backoff,
// prices and preference rules.
#include <gtest/gtest.h>

#include "links.hpp"
#include "message_store.hpp"
#include "planner.hpp"
#include "preferences.hpp"
#include "smtp.hpp"
#include "templates.hpp"

namespace restinu::notification {
namespace {

using namespace std::chrono_literals;

const std::string kKey(40, 'k');

std::string tokenOf(const std::string& url) {
    return url.substr(url.find("token=") + 6);
}

TEST(Links, AVerificationLinkOpensUntilItExpiresAndNotAfter) {
    LinkSigner links(kKey, "https://restinu.example/", std::chrono::hours(72));
    const auto url = links.verifyUrl("u1", "a@example.com", 1'000'000);
    EXPECT_TRUE(url.starts_with("https://restinu.example/api/v1/notifications/verify-email?token="))
        << url;
    auto v = links.verification(tokenOf(url), 1'000'000 + 72 * 3600);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->user_id, "u1");
    EXPECT_EQ(v->email, "a@example.com");
    EXPECT_FALSE(links.verification(tokenOf(url), 1'000'000 + 72 * 3600 + 1));
}

TEST(Links, AChangedTokenAnotherKeyOrAnotherPurposeOpensNothing) {
    LinkSigner links(kKey, "http://x", std::chrono::hours(1));
    LinkSigner other(std::string(40, 'o'), "http://x", std::chrono::hours(1));
    const auto token = tokenOf(links.verifyUrl("u1", "a@example.com", 100));
    EXPECT_FALSE(other.verification(token, 100));
    auto changed = token;
    changed[3] = changed[3] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(links.verification(changed, 100));
    EXPECT_FALSE(links.verification("", 100));
    EXPECT_FALSE(links.verification("not.a.token", 100));
    // An unsubscribe token is no verification token, nor the reverse.
    const auto unsub = tokenOf(links.unsubscribeUrl("u1", "marketing"));
    EXPECT_FALSE(links.verification(unsub, 100));
    EXPECT_FALSE(links.unsubscribe(token));
    auto u = links.unsubscribe(unsub);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->category, "marketing");
}

TEST(Templates, TheUsersLanguageIsUsedAndEnglishWhenThereIsNoTranslation) {
    const Vars vars{{"name", "Asha"},
                    {"email", "a@example.com"},
                    {"verify_url", "https://v/1"},
                    {"ttl_hours", "72"}};
    auto hi = render("welcome", "hi", vars);
    EXPECT_NE(hi.subject.find("स्वागत"), std::string::npos) << hi.subject;
    EXPECT_NE(hi.text.find("Asha"), std::string::npos);
    auto fallback =
        render("listing_status", "hi",
               {{"name", "Asha"}, {"title", "Flat"}, {"from", "active"}, {"to", "sold"}});
    EXPECT_EQ(fallback.subject, "Your listing is now sold: Flat");
    EXPECT_THROW(render("no_such_template", "en", {}), std::out_of_range);
}

TEST(Templates, TheHtmlPartEscapesWhatUsersWroteAndLinksTheUrl) {
    auto r = render("listing_published", "en",
                    {{"name", "<b>Eve</b>"},
                     {"title", "Flat \"A\" & <script>alert(1)</script>"},
                     {"listing_url", "https://app/properties/1"}},
                    "https://app/unsub?t=1");
    EXPECT_EQ(r.html.find("<script>"), std::string::npos);
    EXPECT_NE(r.html.find("&lt;script&gt;"), std::string::npos);
    EXPECT_NE(r.html.find("&lt;b&gt;Eve&lt;/b&gt;"), std::string::npos);
    EXPECT_NE(r.html.find("<a href=\"https://app/properties/1\">"), std::string::npos);
    EXPECT_NE(r.html.find("<a href=\"https://app/unsub?t=1\">"), std::string::npos);
    EXPECT_NE(r.text.find("https://app/unsub?t=1"), std::string::npos);
}

TEST(Mime, Base64IsRfc4648WithLinesOf76) {
    EXPECT_EQ(base64Lines(""), "");
    EXPECT_EQ(base64Lines("f"), "Zg==");
    EXPECT_EQ(base64Lines("fo"), "Zm8=");
    EXPECT_EQ(base64Lines("foo"), "Zm9v");
    EXPECT_EQ(base64Lines("foobar"), "Zm9vYmFy");
    const auto long_one = base64Lines(std::string(120, 'x'));
    EXPECT_EQ(long_one.find("\r\n"), 76U);
    EXPECT_EQ(long_one.size(), 160U + 2U * 2U);  // breaks after 76 and 152 characters
}

TEST(Mime, TheMessageHasItsHeadersTwoPartsAndEncodedNames) {
    Outgoing m;
    m.message_id = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
    m.to = "asha@example.com";
    m.to_name = "आशा \"Rao\"";
    m.subject = "Plain subject";
    m.text = "hello";
    m.html = "<p>hello</p>";
    m.unsubscribe = "https://x/unsub?token=t";
    SmtpSettings s;
    const auto mime = buildMime(m, s, "Sun, 06 Dec 2026 10:00:00 +0000");
    EXPECT_NE(mime.find("From: \"REST-iN-U\" <no-reply@restinu.local>\r\n"), std::string::npos);
    EXPECT_NE(mime.find("To: =?UTF-8?B?"), std::string::npos) << "a non-ASCII name is encoded";
    EXPECT_NE(mime.find("Subject: Plain subject\r\n"), std::string::npos);
    EXPECT_NE(mime.find("Message-ID: <0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee@restinu>\r\n"),
              std::string::npos);
    EXPECT_NE(mime.find("List-Unsubscribe: <https://x/unsub?token=t>\r\n"), std::string::npos);
    EXPECT_NE(mime.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
              std::string::npos);
    EXPECT_NE(mime.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(mime.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(mime.find("aGVsbG8="), std::string::npos);  // "hello"
    EXPECT_TRUE(mime.ends_with("--=_restinu_0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee--\r\n"));
    // A subject with a line break cannot add a header.
    m.subject = "Hi\r\nBcc: victim@example.com";
    const auto injected = buildMime(m, s, "x");
    EXPECT_EQ(injected.find("\r\nBcc:"), std::string::npos);
}

TEST(Backoff, DoublesFromTheBaseUpToTheMaxWithJitter) {
    const RetryPolicy p{8, 1000ms, 10'000ms};
    for (int i = 0; i < 50; ++i) {
        auto first = backoff(p, 1);
        EXPECT_GE(first, 800ms);
        EXPECT_LE(first, 1200ms);
        auto third = backoff(p, 3);
        EXPECT_GE(third, 3200ms);
        EXPECT_LE(third, 4800ms);
        auto late = backoff(p, 40);
        EXPECT_GE(late, 8000ms);
        EXPECT_LE(late, 12'000ms);
    }
}

TEST(Prices, RupeesInIndianGroupingOthersInThousands) {
    EXPECT_EQ(formatPrice(850'000'000, "INR"), "₹85,00,000");
    EXPECT_EQ(formatPrice(12'345'678'900, "INR"), "₹12,34,56,789");
    EXPECT_EQ(formatPrice(99'950, "INR"), "₹999.50");
    EXPECT_EQ(formatPrice(125'050, "USD"), "USD 1,250.50");
    EXPECT_EQ(formatPrice(100'000'000'000, "USD"), "USD 1,000,000,000");
}

TEST(Preferences, SecurityByEmailAndInAppIsLockedAndSmsIsOffByDefault) {
    EXPECT_TRUE(locked("security", "email"));
    EXPECT_TRUE(locked("security", "in_app"));
    EXPECT_FALSE(locked("security", "sms"));
    EXPECT_FALSE(locked("listing", "email"));
    EXPECT_TRUE(enabledByDefault("security", "sms"));
    EXPECT_FALSE(enabledByDefault("listing", "sms"));
    EXPECT_TRUE(enabledByDefault("listing", "push"));
    EXPECT_TRUE(carriesUnsubscribe("saved_search"));
    EXPECT_FALSE(carriesUnsubscribe("security"));
}

}  // namespace
}  // namespace restinu::notification
