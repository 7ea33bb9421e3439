#include "commands.hpp"

#include <cstdio>
#include <cstdlib>

#include "message_store.hpp"
#include "restinu/rt/blocking.hpp"
#include "restinu/rt/cli_pool.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::notification {
namespace {

int messages(const std::vector<std::string>& args, rt::Config&,
             const rt::RuntimeSettings& runtime) {
    static constexpr const char* kUsage =
        "usage: restinu notification messages [--status queued|sending|sent|dead] [--user ID] "
        "[--limit N]\n";
    std::string status;
    std::string user;
    int limit = 50;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--status" && i + 1 < args.size()) {
            status = args[++i];
        } else if (args[i] == "--user" && i + 1 < args.size()) {
            user = args[++i];
        } else if (args[i] == "--limit" && i + 1 < args.size()) {
            limit = std::max(1, std::min(10'000, std::atoi(args[++i].c_str())));
        } else {
            std::fputs(kUsage, stderr);
            return 2;
        }
    }
    if (!status.empty() && status != "queued" && status != "sending" && status != "sent" &&
        status != "dead") {
        std::fputs(kUsage, stderr);
        return 2;
    }
    return rt::withOneConnection(runtime.pg_conninfo, "messages", [&](auto& io, rt::PgPool& pool) {
        for (const auto& m : rt::runBlocking(io, MessageStore::list(pool, status, user, limit))) {
            std::printf("%s %s %-6s %-18s %-7s attempts %d %s %s\n", m.created_at.c_str(),
                        m.id.c_str(), m.channel.c_str(), m.template_id.c_str(), m.status.c_str(),
                        m.attempts, m.user_id.c_str(), m.last_error.c_str());
        }
        return 0;
    });
}

int requeue(const std::vector<std::string>& args, rt::Config&, const rt::RuntimeSettings& runtime) {
    static constexpr const char* kUsage =
        "usage: restinu notification requeue ID... | --all-dead\n"
        "  puts dead messages back in the queue, their attempts counted from 0\n";
    std::vector<std::string> ids;
    bool all = false;
    for (const auto& a : args) {
        if (a == "--all-dead") {
            all = true;
        } else if (rt::isUuid(a)) {
            ids.push_back(a);
        } else {
            std::fputs(kUsage, stderr);
            return 2;
        }
    }
    if (all == !ids.empty()) {  // exactly one of the two
        std::fputs(kUsage, stderr);
        return 2;
    }
    return rt::withOneConnection(runtime.pg_conninfo, "requeue", [&](auto& io, rt::PgPool& pool) {
        const auto n = rt::runBlocking(io, MessageStore::requeueDead(pool, ids));
        std::printf("%lld dead message(s) queued again\n", static_cast<long long>(n));
        return n > 0 || all ? 0 : 1;
    });
}

}  // namespace

std::vector<rt::ServiceCommand> operatorCommands() {
    return {
        {"messages", "messages and their delivery state, newest first", &messages},
        {"requeue", "send dead messages again (after fixing what killed them)", &requeue},
    };
}

}  // namespace restinu::notification
