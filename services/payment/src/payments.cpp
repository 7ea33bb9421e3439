#include "payments.hpp"

#include <boost/json.hpp>

#include "ledger.hpp"
#include "money.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/pg_columns.hpp"
#include "restinu/rt/problem.hpp"

namespace restinu::payment {
namespace {

namespace json = boost::json;
using Kind = PaymentOutcome::Kind;

constexpr std::string_view kIntentColumns =
    "id, coalesce(purchase_id::text, '') AS purchase_id, buyer_id::text AS buyer_id, "
    "seller_id::text AS seller_id, amount, currency, payment_method, status, "
    "coalesce(provider_intent_id, '') AS provider_intent_id, amount_captured, amount_refunded, "
    "fee, coalesce(decline_code, '') AS decline_code, "
    "extract(epoch FROM now() - created_at)::bigint AS age_s";

IntentRecord readIntent(const rt::PgResult& r, std::size_t i) {
    static constexpr std::array<std::string_view, 14> kNames = {"id",
                                                                "purchase_id",
                                                                "buyer_id",
                                                                "seller_id",
                                                                "amount",
                                                                "currency",
                                                                "payment_method",
                                                                "status",
                                                                "provider_intent_id",
                                                                "amount_captured",
                                                                "amount_refunded",
                                                                "fee",
                                                                "decline_code",
                                                                "age_s"};
    const auto c = rt::requireColumns(r, kNames);
    IntentRecord x;
    x.id = r.get(i, c[0]);
    x.purchase_id = r.get(i, c[1]);
    x.buyer_id = r.get(i, c[2]);
    x.seller_id = r.get(i, c[3]);
    x.amount = r.getInt(i, c[4]);
    x.currency = r.get(i, c[5]);
    x.payment_method = r.get(i, c[6]);
    x.status = r.get(i, c[7]);
    x.provider_intent_id = r.get(i, c[8]);
    x.amount_captured = r.getInt(i, c[9]);
    x.amount_refunded = r.getInt(i, c[10]);
    x.fee = r.getInt(i, c[11]);
    x.decline_code = r.get(i, c[12]);
    x.age_seconds = r.getInt(i, c[13]);
    return x;
}

ledger::Parties partiesOf(const IntentRecord& i) {
    return {i.id, i.buyer_id, i.seller_id, i.currency};
}

std::string kindName(Kind k) {
    return k == Kind::Done ? "done" : "declined";
}

PaymentOutcome declined(IntentRecord intent, std::string reason) {
    return {Kind::Declined, std::move(intent), std::move(reason), false};
}

PaymentOutcome unavailable(IntentRecord intent, std::string reason) {
    return {Kind::Unavailable, std::move(intent), std::move(reason), false};
}

// Named: a braced temporary passed to a coroutine inside co_await is mis-destroyed by g++ 12,
// so every argument of finish() is a named object.
const std::function<rt::Task<void>(rt::PgConn&, PaymentOutcome&)> kNoEffect;

std::string newIntentId() {
    std::string id = "pi_";
    rt::appendRandomHex(id, 24);
    return id;
}

}  // namespace

rt::Task<rt::PgResult> selectIntent(rt::PgConn& tx, const std::string& id, bool lock) {
    const std::string sql = "SELECT " + std::string(kIntentColumns) +
                            " FROM payment_intents WHERE id = $1" + (lock ? " FOR UPDATE" : "");
    co_return co_await tx.query(sql, id);
}

std::optional<IntentRecord> intentIn(const rt::PgResult& r) {
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return readIntent(r, 0);
}

struct Payments::Begun {
    IntentRecord intent;
    std::optional<PaymentOutcome> result;  ///< the key's first result, when it has one
};

rt::Task<Payments::Begun> Payments::begin(const std::string& key, std::string_view operation,
                                          const std::string& fingerprint,
                                          const std::string& intent_id, const NewIntent* creating) {
    if (key.empty() || key.size() > 255) {
        throw rt::ApiError(rt::problems::kIdempotencyKeyRequired,
                           "An idempotency key of 1 to 255 characters is required.");
    }
    std::function<rt::Task<Begun>(rt::PgConn&)> body = [&](rt::PgConn& tx) -> rt::Task<Begun> {
        auto inserted = co_await tx.execute(
            "idem_insert",
            "INSERT INTO idempotency_keys (key, operation, fingerprint, intent_id) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING key",
            key, operation, fingerprint, intent_id);
        if (inserted.rows() == 1 && creating != nullptr) {
            // Named, not a temporary inside co_await (g++ 12 destroys those twice).
            const rt::PgParam purchase = creating->purchase_id.empty()
                                             ? rt::PgParam(std::nullopt)
                                             : rt::PgParam(creating->purchase_id);
            co_await tx.execute(
                "intent_insert",
                "INSERT INTO payment_intents (id, purchase_id, buyer_id, seller_id, amount, "
                "currency, payment_method, status) VALUES ($1, $2::uuid, $3::uuid, $4::uuid, "
                "$5::bigint, $6, $7, 'authorising')",
                intent_id, purchase, creating->buyer_id, creating->seller_id, creating->amount,
                creating->currency, creating->payment_method);
        }
        Begun b;
        std::string stored_intent = intent_id;
        if (inserted.rows() == 0) {
            auto r = co_await tx.execute(
                "idem_read",
                "SELECT operation, fingerprint, coalesce(intent_id, '') AS intent_id, result "
                "FROM idempotency_keys WHERE key = $1",
                key);
            if (r.get(0, 0) != operation || r.get(0, 1) != fingerprint) {
                throw rt::ApiError(rt::problems::kIdempotencyKeyReused,
                                   "This idempotency key was used for another request.");
            }
            stored_intent = std::string(r.get(0, 2));
            if (auto stored = r.opt(0, 3)) {
                const auto v = json::parse(*stored).as_object();
                PaymentOutcome first;
                first.kind = v.at("kind").as_string() == "done" ? Kind::Done : Kind::Declined;
                first.reason = std::string(v.at("reason").as_string());
                first.replayed = true;
                b.result = std::move(first);
            }
        }
        // A result set, not an optional record, crosses the co_await (g++ 12 mis-destroys
        // optional aggregates returned through coroutines here).
        const auto rows = co_await selectIntent(tx, stored_intent, false);
        auto intent = intentIn(rows);
        if (!intent) {
            throw rt::ApiError(rt::problems::kNotFound, "No such payment intent.");
        }
        b.intent = std::move(*intent);
        if (b.result) {
            b.result->intent = b.intent;
        }
        co_return b;
    };
    co_return co_await pool_.transaction(body);
}

rt::Task<PaymentOutcome> Payments::finish(const std::string& key, PaymentOutcome outcome,
                                          Finish effect) {
    std::function<rt::Task<void>(rt::PgConn&)> body = [&](rt::PgConn& tx) -> rt::Task<void> {
        if (effect) {
            co_await effect(tx, outcome);
        }
        const json::object stored{{"kind", kindName(outcome.kind)}, {"reason", outcome.reason}};
        co_await tx.execute("idem_finish",
                            "UPDATE idempotency_keys SET result = $2, finished_at = now() "
                            "WHERE key = $1 AND result IS NULL",
                            key, json::serialize(stored));
        // (Not in an if-initialiser: g++ 12 destroys such a co_await result twice.)
        const auto rows = co_await selectIntent(tx, outcome.intent.id, false);
        if (rows.rows() == 1) {
            outcome.intent = readIntent(rows, 0);
        }
    };
    co_await pool_.transaction(body);
    co_return outcome;
}

rt::Task<void> Payments::recordHold(rt::PgConn& tx, IntentRecord& intent,
                                    const ProviderIntent& pi) {
    // The state change first: the entry is posted only if this transaction made it (a
    // concurrent one that got there first, or an intent cancelled meanwhile, posts nothing).
    auto changed = co_await tx.execute("intent_authorised",
                                       "UPDATE payment_intents SET status = 'authorised', "
                                       "provider_intent_id = $2, updated_at = now() "
                                       "WHERE id = $1 AND status = 'authorising' RETURNING id",
                                       intent.id, pi.id);
    if (changed.rows() == 1) {
        const auto entry =
            ledger::authorise(partiesOf(intent), intent.amount, intent.id + ":authorise");
        co_await ledger::post(tx, entry);
    }
}

rt::Task<PaymentOutcome> Payments::authorise(std::string key, NewIntent req) {
    if (req.amount <= 0) {
        throw rt::ApiError(rt::problems::kValidation, "The amount must be positive.");
    }
    const auto fingerprint = rt::sha256Hex("authorise|" + req.purchase_id + "|" + req.buyer_id +
                                           "|" + req.seller_id + "|" + std::to_string(req.amount) +
                                           "|" + req.currency + "|" + req.payment_method);
    const auto intent_id = newIntentId();
    auto b = co_await begin(key, "authorise", fingerprint, intent_id, &req);
    if (b.result) {
        co_return std::move(*b.result);
    }
    auto intent = std::move(b.intent);
    if (intent.status == "authorised") {  // a concurrent call finished it
        PaymentOutcome out = {Kind::Done, intent, {}, false};
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    if (intent.status != "authorising") {
        PaymentOutcome out = declined(intent, "the payment was " + intent.status);
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    AuthoriseRequest call{intent.id, intent.purchase_id, intent.amount, intent.currency,
                          intent.payment_method};
    auto r = co_await provider_.authorise(call, "restinu:" + key);
    if (r.outcome == ProviderResult::Outcome::Unavailable) {
        co_return unavailable(intent, r.message);
    }
    if (r.outcome == ProviderResult::Outcome::Ok && r.intent.status == "requires_capture") {
        auto pi = r.intent;
        Finish hold = [this, pi](rt::PgConn& tx, PaymentOutcome& o) -> rt::Task<void> {
            co_await recordHold(tx, o.intent, pi);
        };
        PaymentOutcome out = {Kind::Done, intent, {}, false};
        co_return co_await finish(key, std::move(out), hold);
    }
    const std::string code = r.code.empty() ? r.intent.status : r.code;
    Finish decline = [code](rt::PgConn& tx, PaymentOutcome& o) -> rt::Task<void> {
        co_await tx.execute("intent_declined",
                            "UPDATE payment_intents SET status = 'declined', decline_code = $2, "
                            "updated_at = now() WHERE id = $1 AND status = 'authorising'",
                            o.intent.id, code);
    };
    PaymentOutcome out = declined(intent, "the card was declined (" + code + ")");
    co_return co_await finish(key, std::move(out), decline);
}

rt::Task<PaymentOutcome> Payments::capture(std::string key, std::string intent_id,
                                           std::int64_t amount) {
    const auto fingerprint = rt::sha256Hex("capture|" + intent_id + "|" + std::to_string(amount));
    auto b = co_await begin(key, "capture", fingerprint, intent_id, nullptr);
    if (b.result) {
        co_return std::move(*b.result);
    }
    auto intent = std::move(b.intent);
    if (intent.status == "captured" && intent.amount_captured == amount) {
        PaymentOutcome out = {Kind::Done, intent, {}, false};
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    if (intent.status != "authorised" || amount <= 0 || amount > intent.amount) {
        PaymentOutcome out = declined(intent, "cannot capture " + std::to_string(amount) +
                                                  " of a payment that is " + intent.status);
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    auto r = co_await provider_.capture(intent.provider_intent_id, amount, "restinu:" + key);
    if (r.outcome == ProviderResult::Outcome::Unavailable) {
        co_return unavailable(intent, r.message);
    }
    if (r.outcome == ProviderResult::Outcome::Declined) {
        PaymentOutcome out = declined(intent, "the provider refused the capture (" + r.code + ")");
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    const auto fee = money::feeOf(amount, fee_bps_);
    Finish captured = [amount, fee](rt::PgConn& tx, PaymentOutcome& o) -> rt::Task<void> {
        auto changed = co_await tx.execute(
            "intent_captured",
            "UPDATE payment_intents SET status = 'captured', amount_captured = $2::bigint, "
            "fee = $3::bigint, updated_at = now() WHERE id = $1 AND status = 'authorised' "
            "RETURNING id",
            o.intent.id, amount, fee);
        if (changed.rows() == 1) {
            const auto entry = ledger::capture(partiesOf(o.intent), o.intent.amount, amount, fee,
                                               o.intent.id + ":capture");
            co_await ledger::post(tx, entry);
        }
    };
    PaymentOutcome out = {Kind::Done, intent, {}, false};
    co_return co_await finish(key, std::move(out), captured);
}

rt::Task<PaymentOutcome> Payments::cancel(std::string key, std::string intent_id) {
    const auto fingerprint = rt::sha256Hex("cancel|" + intent_id);
    auto b = co_await begin(key, "cancel", fingerprint, intent_id, nullptr);
    if (b.result) {
        co_return std::move(*b.result);
    }
    auto intent = std::move(b.intent);
    if (intent.status == "authorising") {
        // The authorisation never answered: find out what the provider did.
        const auto held = co_await heldAtProvider(intent);
        if (held.unknown) {
            co_return unavailable(intent, held.why);
        }
        if (!held.intent) {
            Finish never = [](rt::PgConn& tx, PaymentOutcome& o) -> rt::Task<void> {
                co_await tx.execute("intent_never_held",
                                    "UPDATE payment_intents SET status = 'canceled', "
                                    "updated_at = now() WHERE id = $1 AND status = 'authorising'",
                                    o.intent.id);
            };
            PaymentOutcome out = {Kind::Done, intent, {}, false};
            co_return co_await finish(key, std::move(out), never);
        }
        // It holds: record the hold, then release it like any other.
        const auto pi = *held.intent;
        std::function<rt::Task<void>(rt::PgConn&)> record = [&](rt::PgConn& tx) -> rt::Task<void> {
            co_await recordHold(tx, intent, pi);
        };
        co_await pool_.transaction(record);
        intent.status = "authorised";
        intent.provider_intent_id = pi.id;
    }
    if (intent.status != "authorised") {
        // Declined, cancelled or never held: nothing is held. A capture is refunded instead.
        auto outcome = intent.status == "captured"
                           ? declined(intent, "the payment was captured: refund it instead")
                           : PaymentOutcome{Kind::Done, intent, {}, false};
        PaymentOutcome out = std::move(outcome);
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    co_return co_await cancelAuthorised(key, std::move(intent));
}

rt::Task<Payments::Held> Payments::heldAtProvider(const IntentRecord& intent) {
    Held out;
    // 1. The create again, with its own key: the provider answers what it did the first time
    //    (or does it now; either way it is then ours to release).
    auto keys = co_await pool_.execute(
        "idem_authorise_key",
        "SELECT key FROM idempotency_keys WHERE intent_id = $1 AND operation = 'authorise'",
        intent.id);
    if (keys.rows() == 1) {
        AuthoriseRequest call{intent.id, intent.purchase_id, intent.amount, intent.currency,
                              intent.payment_method};
        const std::string provider_key = "restinu:" + std::string(keys.get(0, 0));
        auto r = co_await provider_.authorise(call, provider_key);
        if (r.outcome == ProviderResult::Outcome::Ok && r.intent.status == "requires_capture") {
            out.intent = r.intent;
            co_return out;
        }
        if (r.outcome != ProviderResult::Outcome::Unavailable) {
            co_return out;  // declined, or no longer held: nothing to release
        }
    }
    // 2. The provider does not answer the create: search what it holds for this intent. Its
    //    search may lag behind writes, so "none" is believed only for an old enough intent.
    std::optional<ProviderIntent> found;
    try {
        found = co_await provider_.find(intent.id);
    } catch (const std::exception& e) {
        out.unknown = true;
        out.why = std::string("the provider did not answer: ") + e.what();
        co_return out;
    }
    if (found && found->status == "requires_capture") {
        out.intent = *found;
    } else if (!found && intent.age_seconds < search_lag_.count()) {
        out.unknown = true;
        out.why = "the provider's search may not show the hold yet";
    }
    co_return out;
}

rt::Task<PaymentOutcome> Payments::cancelAuthorised(const std::string& key, IntentRecord intent) {
    auto r = co_await provider_.cancel(intent.provider_intent_id, "restinu:" + key);
    if (r.outcome == ProviderResult::Outcome::Unavailable) {
        co_return unavailable(intent, r.message);
    }
    if (r.outcome == ProviderResult::Outcome::Declined && r.intent.status != "canceled") {
        PaymentOutcome out = declined(intent, "the provider refused to cancel (" + r.code + ")");
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    Finish released = [](rt::PgConn& tx, PaymentOutcome& o) -> rt::Task<void> {
        auto changed = co_await tx.execute(
            "intent_canceled",
            "UPDATE payment_intents SET status = 'canceled', updated_at = now() "
            "WHERE id = $1 AND status = 'authorised' RETURNING id",
            o.intent.id);
        if (changed.rows() == 1) {
            const auto entry =
                ledger::voidHold(partiesOf(o.intent), o.intent.amount, o.intent.id + ":void");
            co_await ledger::post(tx, entry);
        }
    };
    PaymentOutcome out = {Kind::Done, intent, {}, false};
    co_return co_await finish(key, std::move(out), released);
}

rt::Task<PaymentOutcome> Payments::refund(std::string key, std::string intent_id,
                                          std::int64_t amount) {
    const auto fingerprint = rt::sha256Hex("refund|" + intent_id + "|" + std::to_string(amount));
    auto b = co_await begin(key, "refund", fingerprint, intent_id, nullptr);
    if (b.result) {
        co_return std::move(*b.result);
    }
    auto intent = std::move(b.intent);
    const auto refundable = intent.amount_captured - intent.amount_refunded;
    if (intent.status != "captured" || amount <= 0 || amount > refundable) {
        PaymentOutcome out = declined(intent, "cannot refund " + std::to_string(amount) + " of " +
                                                  std::to_string(refundable) + " refundable");
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    auto r = co_await provider_.refund(intent.provider_intent_id, amount, "restinu:" + key);
    if (r.outcome == ProviderResult::Outcome::Unavailable) {
        co_return unavailable(intent, r.message);
    }
    if (r.outcome == ProviderResult::Outcome::Declined) {
        PaymentOutcome out = declined(intent, "the provider refused the refund (" + r.code + ")");
        co_return co_await finish(key, std::move(out), kNoEffect);
    }
    const std::string operation = intent.id + ":refund:" + key;
    Finish refunded = [amount, operation](rt::PgConn& tx, PaymentOutcome& o) -> rt::Task<void> {
        const auto rows = co_await selectIntent(tx, o.intent.id, true);
        const auto locked = intentIn(rows);
        if (locked->status != "captured" ||
            locked->amount_captured - locked->amount_refunded < amount) {
            throw std::logic_error("refund of " + o.intent.id + " beyond what was captured");
        }
        const auto back = money::feeShare(locked->fee, amount, locked->amount_captured);
        const auto entry = ledger::refund(partiesOf(*locked), amount, back, operation);
        if (co_await ledger::post(tx, entry)) {
            co_await tx.execute("intent_refunded",
                                "UPDATE payment_intents SET amount_refunded = amount_refunded + "
                                "$2::bigint, updated_at = now() WHERE id = $1",
                                o.intent.id, amount);
        }
    };
    PaymentOutcome out = {Kind::Done, intent, {}, false};
    co_return co_await finish(key, std::move(out), refunded);
}

rt::Task<std::optional<std::string>> Payments::intentOfKey(const std::string& key) {
    auto r = co_await pool_.execute("idem_intent",
                                    "SELECT intent_id FROM idempotency_keys WHERE key = $1", key);
    if (r.rows() == 0 || r.isNull(0, 0)) {
        co_return std::nullopt;
    }
    co_return std::string(r.get(0, 0));
}

rt::Task<PaymentOutcome> Payments::settleCapture(std::string key, std::string intent_id,
                                                 std::int64_t amount) {
    auto conn = co_await pool_.acquire();
    const auto rows = co_await selectIntent(conn, intent_id, false);
    conn.release();
    auto intent = intentIn(rows);
    if (!intent) {
        co_return declined({}, "no such payment");
    }
    if (intent->status == "captured") {
        co_return PaymentOutcome{Kind::Done, *intent, {}, false};
    }
    auto r = co_await pool_.execute("idem_result",
                                    "SELECT result FROM idempotency_keys WHERE key = $1", key);
    if (r.rows() == 0) {
        co_return declined(*intent, "never captured");
    }
    if (auto stored = r.opt(0, 0)) {
        const auto v = json::parse(*stored).as_object();
        co_return PaymentOutcome{v.at("kind").as_string() == "done" ? Kind::Done : Kind::Declined,
                                 *intent, std::string(v.at("reason").as_string()), true};
    }
    // Begun, never answered: the provider's record of the intent says whether it captured.
    ProviderIntent pi;
    try {
        pi = co_await provider_.retrieve(intent->provider_intent_id);
    } catch (const std::exception& e) {
        co_return unavailable(*intent, std::string("the provider did not answer: ") + e.what());
    }
    if (pi.status == "succeeded") {
        co_return co_await capture(std::move(key), std::move(intent_id), amount);
    }
    PaymentOutcome out = declined(*intent, "not captured");
    co_return co_await finish(key, std::move(out), kNoEffect);
}

}  // namespace restinu::payment
