#include "book.hpp"

#include <boost/json.hpp>
#include <ctime>

#include "restinu/rt/digest.hpp"
#include "restinu/rt/http.hpp"

namespace restinu::sandbox {
namespace {

namespace json = boost::json;

Answer error(int status, std::string_view type, std::string_view code, std::string_view message,
             const json::object* intent = nullptr) {
    json::object err{{"type", type}, {"code", code}, {"message", message}};
    if (intent != nullptr) {
        err["payment_intent"] = *intent;
    }
    return {status, json::serialize(json::object{{"error", err}}), {}};
}

std::int64_t now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

std::optional<std::int64_t> positive(const std::map<std::string, std::string>& form,
                                     const std::string& key) {
    auto it = form.find(key);
    if (it == form.end() || it->second.empty() || it->second.size() > 18) {
        return std::nullopt;
    }
    std::int64_t v = 0;
    for (char c : it->second) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
    }
    return v > 0 ? std::optional(v) : std::nullopt;
}

std::string field(const std::map<std::string, std::string>& form, const std::string& key) {
    auto it = form.find(key);
    return it == form.end() ? std::string{} : it->second;
}

}  // namespace

std::optional<std::map<std::string, std::string>> parseForm(std::string_view body) {
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const auto pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        const auto eq = pair.find('=');
        auto k = rt::percentDecode(pair.substr(0, eq), true);
        auto v = rt::percentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
        if (!k || !v) {
            return std::nullopt;
        }
        out[*k] = *v;
    }
    return out;
}

std::string Book::json(const Intent& i) const {
    json::object meta;
    for (const auto& [k, v] : i.metadata) {
        meta[k] = v;
    }
    json::object o{
        {"id", i.id},
        {"object", "payment_intent"},
        {"amount", i.amount},
        {"amount_capturable", i.status == "requires_capture" ? i.amount : 0},
        {"amount_received", i.amount_received},
        {"capture_method", "manual"},
        {"currency", i.currency},
        {"status", i.status},
        {"payment_method", i.payment_method},
        {"metadata", meta},
        {"created", i.created},
        {"latest_charge", json::object{{"id", "ch_" + i.id.substr(3)},
                                       {"object", "charge"},
                                       {"amount_captured", i.amount_received},
                                       {"amount_refunded", i.amount_refunded},
                                       {"refunded", i.amount_refunded > 0 &&
                                                        i.amount_refunded == i.amount_received}}}};
    return json::serialize(o);
}

Webhook Book::event(std::string_view type, const Intent& i) {
    std::string id = "evt_";
    rt::appendRandomHex(id, 24);
    json::object e{{"id", id},
                   {"object", "event"},
                   {"type", type},
                   {"created", now()},
                   {"data", json::object{{"object", json::parse(json(i))}}}};
    Webhook w{id, json::serialize(e)};
    webhooks_.push_back(w);
    return w;
}

std::optional<Answer> Book::replay(const std::string& key, const std::string& fingerprint) {
    if (key.empty()) {
        return std::nullopt;
    }
    std::lock_guard lock(mu_);
    auto it = keys_.find(key);
    if (it == keys_.end()) {
        return std::nullopt;
    }
    if (it->second.first != fingerprint) {
        return error(400, "idempotency_error", "idempotency_key_reused",
                     "Keys for idempotent requests can only be used with the same parameters "
                     "they were first used with.");
    }
    return it->second.second;
}

void Book::remember(const std::string& key, const std::string& fingerprint, const Answer& a) {
    if (key.empty() || a.status >= 500) {
        return;  // a 500 is a crash on the provider's side: nothing was kept
    }
    std::lock_guard lock(mu_);
    keys_.emplace(key, std::make_pair(fingerprint, a));
}

Answer Book::create(const std::map<std::string, std::string>& form, std::vector<Webhook>& sent) {
    const auto amount = positive(form, "amount");
    const auto currency = field(form, "currency");
    const auto method = field(form, "payment_method");
    if (!amount || currency.size() != 3 || method.empty() ||
        field(form, "capture_method") != "manual" || field(form, "confirm") != "true") {
        return error(400, "invalid_request_error", "parameter_invalid",
                     "amount, currency, payment_method, capture_method=manual and confirm=true "
                     "are required");
    }
    if (method == "pm_sandbox_error_500") {
        return error(500, "api_error", "internal", "sandbox: an injected server error");
    }
    std::lock_guard lock(mu_);
    Intent i;
    i.id = "pi_";
    rt::appendRandomHex(i.id, 24);
    i.amount = *amount;
    i.currency = currency;
    i.payment_method = method;
    i.created = now();
    i.seq = ++seq_;
    for (const auto& [k, v] : form) {
        if (k.starts_with("metadata[") && k.ends_with("]")) {
            i.metadata[k.substr(9, k.size() - 10)] = v;
        }
    }
    if (method == "pm_card_chargeDeclined") {
        i.status = "requires_payment_method";
        intents_[i.id] = i;
        sent.push_back(event("payment_intent.payment_failed", i));
        const auto obj = json::parse(json(i)).as_object();
        return error(402, "card_error", "card_declined", "Your card was declined.", &obj);
    }
    i.status = "requires_capture";
    intents_[i.id] = i;
    sent.push_back(event("payment_intent.amount_capturable_updated", i));
    Answer a{200, json(i), {}};
    if (method == "pm_sandbox_timeout") {
        a.delay = slow_delay_;
    } else if (method == "pm_sandbox_slow") {
        a.delay = std::chrono::milliseconds(200);
    }
    return a;
}

Answer Book::capture(const std::string& id, const std::map<std::string, std::string>& form,
                     std::vector<Webhook>& sent) {
    std::lock_guard lock(mu_);
    auto it = intents_.find(id);
    if (it == intents_.end()) {
        return error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    }
    auto& i = it->second;
    if (i.payment_method == "pm_sandbox_capture_500") {
        return error(500, "api_error", "internal", "sandbox: an injected server error");
    }
    const auto amount = form.contains("amount_to_capture") ? positive(form, "amount_to_capture")
                                                           : std::optional(i.amount);
    if (i.status != "requires_capture") {
        const auto obj = json::parse(json(i)).as_object();
        return error(
            400, "invalid_request_error", "payment_intent_unexpected_state",
            "This PaymentIntent could not be captured because it has a status of " + i.status + ".",
            &obj);
    }
    if (!amount || *amount > i.amount) {
        return error(400, "invalid_request_error", "parameter_invalid",
                     "amount_to_capture must be between 1 and the amount capturable");
    }
    i.status = "succeeded";
    i.amount_received = *amount;
    sent.push_back(event("payment_intent.succeeded", i));
    return {200, json(i), {}};
}

Answer Book::cancel(const std::string& id, std::vector<Webhook>& sent) {
    std::lock_guard lock(mu_);
    auto it = intents_.find(id);
    if (it == intents_.end()) {
        return error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    }
    auto& i = it->second;
    if (i.payment_method == "pm_sandbox_error_500") {
        return error(500, "api_error", "internal", "sandbox: an injected server error");
    }
    if (i.status != "requires_capture" && i.status != "requires_payment_method") {
        const auto obj = json::parse(json(i)).as_object();
        return error(
            400, "invalid_request_error", "payment_intent_unexpected_state",
            "This PaymentIntent could not be canceled because it has a status of " + i.status + ".",
            &obj);
    }
    i.status = "canceled";
    sent.push_back(event("payment_intent.canceled", i));
    return {200, json(i), {}};
}

Answer Book::refund(const std::map<std::string, std::string>& form, std::vector<Webhook>& sent) {
    std::lock_guard lock(mu_);
    auto it = intents_.find(field(form, "payment_intent"));
    if (it == intents_.end()) {
        return error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    }
    auto& i = it->second;
    const auto amount = form.contains("amount")
                            ? positive(form, "amount")
                            : std::optional(i.amount_received - i.amount_refunded);
    if (i.status != "succeeded" || !amount || *amount <= 0 ||
        *amount > i.amount_received - i.amount_refunded) {
        return error(400, "invalid_request_error", "charge_already_refunded",
                     "The amount is more than what is left to refund.");
    }
    i.amount_refunded += *amount;
    sent.push_back(event("charge.refunded", i));
    std::string id = "re_";
    rt::appendRandomHex(id, 24);
    json::object r{{"id", id},
                   {"object", "refund"},
                   {"amount", *amount},
                   {"currency", i.currency},
                   {"payment_intent", i.id},
                   {"status", "succeeded"}};
    return {200, json::serialize(r), {}};
}

Answer Book::get(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = intents_.find(id);
    if (it == intents_.end()) {
        return error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    }
    return {200, json(it->second), {}};
}

Answer Book::list(std::size_t limit, const std::string& starting_after) {
    std::lock_guard lock(mu_);
    std::vector<const Intent*> ordered;
    for (const auto& [_, i] : intents_) {
        ordered.push_back(&i);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const Intent* a, const Intent* b) { return a->seq < b->seq; });
    std::int64_t after = 0;
    if (auto it = intents_.find(starting_after); it != intents_.end()) {
        after = it->second.seq;
    }
    json::array data;
    bool more = false;
    for (const auto* i : ordered) {
        if (i->seq <= after) {
            continue;
        }
        if (data.size() == limit) {
            more = true;
            break;
        }
        data.push_back(json::parse(json(*i)));
    }
    return {200,
            json::serialize(json::object{{"object", "list"}, {"data", data}, {"has_more", more}}),
            {}};
}

Answer Book::search(const std::string& query) {
    constexpr std::string_view kPrefix = "metadata['restinu_intent']:'";
    if (!query.starts_with(kPrefix) || !query.ends_with("'")) {
        return error(400, "invalid_request_error", "parameter_invalid",
                     "sandbox search understands metadata['restinu_intent']:'<id>' only");
    }
    const auto wanted = query.substr(kPrefix.size(), query.size() - kPrefix.size() - 1);
    std::lock_guard lock(mu_);
    json::array data;
    for (const auto& [_, i] : intents_) {
        auto m = i.metadata.find("restinu_intent");
        if (m != i.metadata.end() && m->second == wanted) {
            data.push_back(json::parse(json(i)));
        }
    }
    return {200,
            json::serialize(
                json::object{{"object", "search_result"}, {"data", data}, {"has_more", false}}),
            {}};
}

std::vector<Webhook> Book::webhooks() {
    std::lock_guard lock(mu_);
    return webhooks_;
}

}  // namespace restinu::sandbox
