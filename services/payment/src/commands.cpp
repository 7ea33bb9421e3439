#include "commands.hpp"

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <map>

#include "purchase_store.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/http_client.hpp"
#include "restinu/rt/pg.hpp"
#include "settings.hpp"

namespace restinu::payment {
namespace {

struct LedgerIntent {
    std::string status;
    std::int64_t amount = 0;
    std::int64_t held = 0;
    std::int64_t captured = 0;
    std::int64_t refunded = 0;
};

// Every difference between our ledger and the provider's record, one line each.
rt::Task<std::vector<std::string>> differences(rt::PgPool& pool, Provider& provider,
                                               std::size_t& compared) {
    std::vector<std::string> out;
    auto unbalanced = co_await pool.query(
        "SELECT currency, sum(amount)::text FROM postings GROUP BY currency HAVING sum(amount) <> "
        "0");
    for (std::size_t i = 0; i < unbalanced.rows(); ++i) {
        out.push_back("the ledger does not balance in " + std::string(unbalanced.get(i, 0)) +
                      ": postings sum to " + std::string(unbalanced.get(i, 1)));
    }
    auto r = co_await pool.query(
        "SELECT i.id, i.status, i.amount, "
        "coalesce(sum(CASE WHEN p.account_id = 'escrow' THEN -p.amount END), 0), "
        "coalesce(sum(CASE WHEN e.kind = 'capture' AND p.account_id = 'provider_clearing' "
        "THEN p.amount END), 0), "
        "coalesce(sum(CASE WHEN e.kind = 'refund' AND p.account_id = 'provider_clearing' "
        "THEN -p.amount END), 0) "
        "FROM payment_intents i LEFT JOIN journal_entries e ON e.intent_id = i.id "
        "LEFT JOIN postings p ON p.entry_id = e.id GROUP BY i.id, i.status, i.amount");
    std::map<std::string, LedgerIntent> ours;
    for (std::size_t i = 0; i < r.rows(); ++i) {
        ours[std::string(r.get(i, 0))] = {std::string(r.get(i, 1)), r.getInt(i, 2), r.getInt(i, 3),
                                          r.getInt(i, 4), r.getInt(i, 5)};
    }
    auto theirs = co_await provider.list();
    compared = theirs.size();
    std::map<std::string, bool> seen;
    for (const auto& pi : theirs) {
        auto it = ours.find(pi.restinu_intent);
        if (it == ours.end()) {
            out.push_back("provider " + pi.id + " (" + pi.status + ", " +
                          std::to_string(pi.amount) + ") has no payment in our ledger");
            continue;
        }
        seen[it->first] = true;
        const auto& l = it->second;
        const bool holds = pi.status == "requires_capture";
        const std::int64_t want_held = holds ? pi.amount : 0;
        const std::int64_t want_captured = pi.status == "succeeded" ? pi.amount_received : 0;
        const std::int64_t want_refunded = pi.status == "succeeded" ? pi.amount_refunded : 0;
        if (l.held != want_held || l.captured != want_captured || l.refunded != want_refunded) {
            out.push_back("payment " + it->first + " (provider " + pi.id + ", " + pi.status +
                          "): ledger holds " + std::to_string(l.held) + ", captured " +
                          std::to_string(l.captured) + ", refunded " + std::to_string(l.refunded) +
                          "; provider holds " + std::to_string(want_held) + ", captured " +
                          std::to_string(want_captured) + ", refunded " +
                          std::to_string(want_refunded));
        }
    }
    for (const auto& [id, l] : ours) {
        if (l.status == "authorising") {
            out.push_back("payment " + id + " is in doubt (its authorisation never answered)");
        } else if (!seen.contains(id) && (l.held != 0 || l.captured != 0)) {
            out.push_back("payment " + id + " (" + l.status +
                          ") has ledger entries but no provider record");
        }
    }
    co_return out;
}

int reconcile(const std::vector<std::string>& args, rt::Config& config,
              const rt::RuntimeSettings& runtime) {
    if (!args.empty()) {
        std::fprintf(stderr, "usage: restinu payment reconcile [--config FILE]\n");
        return 2;
    }
    auto settings = readPaymentSettings(config);
    config.check();
    std::vector<std::string> found;
    std::size_t compared = 0;
    try {
        rt::withOneConnection(runtime.pg_conninfo, "reconcile", [&](auto& io, rt::PgPool& pool) {
            rt::HttpClient http(io);
            StripeProvider provider(http, settings.provider);
            found = rt::runBlocking(io, differences(pool, provider, compared));
        });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "restinu payment reconcile: %s\n", e.what());
        return 1;
    }
    for (const auto& line : found) {
        std::printf("%s\n", line.c_str());
    }
    std::printf("reconciled %zu provider payments: %zu difference%s\n", compared, found.size(),
                found.size() == 1 ? "" : "s");
    return found.empty() ? 0 : 1;
}

void printPurchase(const PurchaseRow& p) {
    std::printf("%s  %-12s %-14s %s %lld %s  buyer %s  listing %s%s%s\n", p.id.c_str(),
                p.state.c_str(), p.step.empty() ? "-" : p.step.c_str(), p.currency.c_str(),
                static_cast<long long>(p.price), p.updated_at.c_str(), p.buyer_id.c_str(),
                p.listing_id.c_str(),
                p.failure_reason.empty() ? "" : "  reason: ", p.failure_reason.c_str());
}

int purchase(const std::vector<std::string>& args, rt::Config& config,
             const rt::RuntimeSettings& runtime) {
    const char* usage =
        "usage: restinu purchase list [--state running|compensating|completed|failed] "
        "[--limit N]\n       restinu purchase show|retry ID\n"
        "       restinu purchase compensate ID [--reason TEXT]\n";
    if (args.empty()) {
        std::fputs(usage, stderr);
        return 2;
    }
    config.check();
    const auto& verb = args[0];
    std::string state;
    std::size_t limit = 50;
    std::string reason = "compensated by an operator";
    std::string id;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--state" && i + 1 < args.size()) {
            state = args[++i];
        } else if (args[i] == "--limit" && i + 1 < args.size()) {
            limit = static_cast<std::size_t>(std::max(1, std::atoi(args[++i].c_str())));
        } else if (args[i] == "--reason" && i + 1 < args.size()) {
            reason = args[++i];
        } else if (id.empty() && args[i][0] != '-') {
            id = args[i];
        } else {
            std::fputs(usage, stderr);
            return 2;
        }
    }
    if ((verb != "list" && id.empty()) || (verb == "list" && !id.empty())) {
        std::fputs(usage, stderr);
        return 2;
    }
    return rt::withOneConnection(runtime.pg_conninfo, "purchase", [&](auto& io, rt::PgPool& pool) {
        PurchaseStore store(pool);
        if (verb == "list") {
            for (const auto& p : rt::runBlocking(io, store.list(state, limit))) {
                printPurchase(p);
            }
            return 0;
        }
        auto p = rt::runBlocking(io, store.find(id));
        if (!p) {
            std::fprintf(stderr, "restinu purchase: no purchase %s\n", id.c_str());
            return 1;
        }
        if (verb == "show") {
            printPurchase(*p);
            for (const auto& s : rt::runBlocking(io, store.steps(id))) {
                std::printf("  %-15s %-12s attempts %d %s %s\n", s.step.c_str(), s.status.c_str(),
                            s.attempts, s.finished_at.c_str(), s.error.c_str());
            }
            return 0;
        }
        bool changed = false;
        if (verb == "retry") {
            changed = rt::runBlocking(io, store.retryNow(id));
        } else if (verb == "compensate") {
            changed = rt::runBlocking(io, store.compensateNow(id, reason));
        } else {
            std::fputs(usage, stderr);
            return 2;
        }
        const std::string why =
            "unchanged (it is " + p->state + (p->step.empty() ? "" : " at " + p->step) +
            "; a step running now holds it until its lease ends, and a purchase past its "
            "capture only goes forward)";
        std::printf("%s: %s\n", id.c_str(),
                    changed ? (verb == "retry" ? "due now" : "compensating") : why.c_str());
        return changed ? 0 : 1;
    });
}

}  // namespace

std::vector<rt::ServiceCommand> operatorCommands() {
    return {
        {"reconcile", "compare the ledger with the provider's record; list every difference",
         &reconcile},
        {"purchase", "purchases: list, show, retry a step now, compensate", &purchase},
    };
}

}  // namespace restinu::payment
