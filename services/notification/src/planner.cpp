#include "planner.hpp"

#include <boost/json.hpp>

#include "inbox_store.hpp"
#include "message_store.hpp"
#include "preferences.hpp"
#include "recipient_store.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/clock.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "saved_search_store.hpp"

namespace restinu::notification {
namespace {

namespace json = boost::json;
namespace ct = contracts;

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

std::int64_t num(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

// The text after its greeting line: what an in-app item or a push says.
std::string withoutGreeting(const std::string& text) {
    auto cut = text.find("\n\n");
    return cut == std::string::npos ? text : text.substr(cut + 2);
}

std::string shortened(std::string s, std::size_t max) {
    if (s.size() <= max) {
        return s;
    }
    s.resize(max - 3);
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) {
        s.pop_back();  // never cut a UTF-8 sequence in two
    }
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80) != 0) {
        s.pop_back();
    }
    return s + "...";
}

}  // namespace

std::string formatPrice(std::int64_t minor, const std::string& currency) {
    const bool negative = minor < 0;
    const std::uint64_t abs =
        negative ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
    const std::string digits = std::to_string(abs / 100);
    const bool indian = currency == "INR";
    std::string grouped;
    const std::size_t n = digits.size();
    for (std::size_t i = 0; i < n; ++i) {
        grouped += digits[i];
        const std::size_t rest = n - i - 1;  // digits after this one
        // Thousands, then (Indian) every two digits: 12,34,56,789; else every three.
        const bool comma =
            rest == 3 || (rest > 3 && (indian ? (rest - 3) % 2 == 0 : rest % 3 == 0));
        if (comma) {
            grouped += ',';
        }
    }
    std::string out = negative ? "-" : "";
    out += indian ? "₹" : currency + " ";
    out += grouped;
    if (abs % 100 != 0) {
        const auto cents = abs % 100;
        out += (cents < 10 ? ".0" : ".") + std::to_string(cents);
    }
    return out;
}

Planner::Planner(const LinkSigner& links, std::set<std::string> channels, std::string app_url)
    : links_(links), channels_(std::move(channels)), app_url_(std::move(app_url)) {
    channels_.emplace("in_app");
    while (!app_url_.empty() && app_url_.back() == '/') {
        app_url_.pop_back();
    }
}

rt::Task<void> Planner::apply(rt::PgConn& tx, const rt::Event& e) const {
    if (e.type == ct::UserRegistered::kType) {
        const auto u = ct::UserRegistered::parse(e.data);
        const Recipient r{u.user_id, u.email, u.name, std::nullopt,
                          u.language.empty() ? "en" : u.language};
        co_await RecipientStore::upsert(tx, r);
        const auto url = links_.verifyUrl(u.user_id, u.email, rt::unixSeconds());
        Notice n{u.user_id, "security", "welcome", {{"email", u.email}, {"verify_url", url}}, ""};
        n.vars.emplace_back("ttl_hours", std::to_string(links_.verifyTtlHours()));
        co_await notify(tx, e.id, std::move(n));
    } else if (e.type == ct::UserProfileChanged::kType) {
        const auto p = ct::UserProfileChanged::parse(e.data);
        const Recipient r{p.user_id, p.email, p.name, p.phone, p.language};
        co_await RecipientStore::upsert(tx, r);
    } else if (e.type == ct::UserNewDevice::kType) {
        const auto d = ct::UserNewDevice::parse(e.data);
        Notice n{d.user_id, "security", "new_device", {{"device", d.device}, {"ip", d.ip}}, ""};
        co_await notify(tx, e.id, std::move(n));
    } else if (e.type == ct::KycDecided::kApproved || e.type == ct::KycDecided::kRejected) {
        const auto k = ct::KycDecided::parse(e.type, e.data);
        Notice n{k.user_id,
                 "account",
                 k.approved ? "kyc_approved" : "kyc_rejected",
                 {{"reason", k.reason}},
                 app_url_ + "/profile"};
        co_await notify(tx, e.id, std::move(n));
    } else if (e.type == ct::PropertyChanged::kStatusChanged ||
               e.type == ct::PropertyChanged::kCreated ||
               e.type == ct::PropertyChanged::kWithdrawn) {
        co_await listingChanged(tx, e);
    }
}

rt::Task<void> Planner::listingChanged(rt::PgConn& tx, const rt::Event& e) const {
    const auto changed = ct::PropertyChanged::parse(e.data);
    const auto row = json::parse(changed.listing_json).as_object();
    const ListingFacts l{str(row, "id"),       str(row, "owner_id"),      str(row, "title"),
                         str(row, "city"),     str(row, "property_type"), num(row, "price_minor"),
                         str(row, "currency"), num(row, "bedrooms")};
    const auto url = app_url_ + "/properties/" + l.id;
    const bool created = e.type == ct::PropertyChanged::kCreated;
    // Published: status_changed to active, or created active.
    const bool published = created ? str(row, "status") == "active" : changed.to == "active";
    if (!created) {
        Notice n{
            l.owner_id,
            "listing",
            published ? "listing_published" : "listing_status",
            {{"title", l.title}, {"from", changed.from}, {"to", changed.to}, {"listing_url", url}},
            url};
        co_await notify(tx, e.id, std::move(n));
    }
    if (!published) {
        co_return;
    }
    auto matches = co_await SavedSearchStore::takeMatches(tx, l);
    for (auto& s : matches) {
        Notice n{s.user_id,
                 "saved_search",
                 "saved_search_match",
                 {{"search", s.name},
                  {"title", l.title},
                  {"city", l.city},
                  {"price", formatPrice(l.price_minor, l.currency)},
                  {"listing_url", url}},
                 url};
        co_await notify(tx, e.id, std::move(n));
    }
}

rt::Task<void> Planner::notify(rt::PgConn& tx, const std::string& event_id, Notice n) const {
    auto recipient = co_await RecipientStore::find(tx, n.user_id);
    const auto enabled = co_await RecipientStore::channels(tx, n.user_id, n.category);
    auto on = [&](const std::string& ch) { return enabled.contains(ch) && channels_.contains(ch); };
    std::string name;
    std::string language = "en";
    if (recipient) {
        name = recipient->name.empty() ? recipient->email.substr(0, recipient->email.find('@'))
                                       : recipient->name;
        language = recipient->language;
    }
    n.vars.emplace_back("name", name);
    const auto unsubscribe = carriesUnsubscribe(n.category)
                                 ? links_.unsubscribeUrl(n.user_id, n.category)
                                 : std::string{};
    const auto words = render(n.template_id, language, n.vars, unsubscribe);
    const auto plain = render(n.template_id, language, n.vars);  // no footer: push, SMS, in-app
    const auto summary = withoutGreeting(plain.text);

    NewMessage m;
    m.event_id = event_id;
    m.user_id = n.user_id;
    m.template_id = n.template_id;
    m.category = n.category;
    if (recipient && on("email")) {
        m.channel = "email";
        m.address = recipient->email;
        m.to_name = recipient->name;
        m.subject = words.subject;
        m.text = words.text;
        m.html = words.html;
        m.unsubscribe = unsubscribe;
        co_await MessageStore::enqueue(tx, m);
    }
    m.to_name.clear();
    m.html.clear();
    m.unsubscribe.clear();
    m.data_json = json::serialize(json::object{{"category", n.category}, {"link", n.link}});
    if (on("push")) {
        auto token = co_await RecipientStore::latestDevice(tx, n.user_id);
        if (token) {
            m.channel = "push";
            m.address = *token;
            m.subject = plain.subject;
            m.text = shortened(summary, 240);
            co_await MessageStore::enqueue(tx, m);
        }
    }
    if (recipient && recipient->phone && on("sms")) {
        m.channel = "sms";
        m.address = *recipient->phone;
        m.subject.clear();
        m.text = shortened(plain.subject + (n.link.empty() ? "" : " " + n.link), 300);
        co_await MessageStore::enqueue(tx, m);
    }
    if (on("in_app")) {
        const InboxItem item{{}, n.category, plain.subject, summary, n.link, {}, false};
        auto added = co_await InboxStore::add(tx, n.user_id, event_id, item);
        if (added) {
            m.channel = "in_app";
            m.address = n.user_id;
            m.subject = plain.subject;
            m.text = summary;
            m.data_json = added->json();
            co_await MessageStore::enqueue(tx, m);
        }
    }
}

}  // namespace restinu::notification
