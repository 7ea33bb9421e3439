#include "seed_command.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "events_command.hpp"
#include "restinu/property/seed.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/user/seed.hpp"

namespace restinu::app {
namespace {

constexpr const char* kPassword = "seed passphrase 2026";

// One line that redraws itself on a terminal; a line per 10% otherwise (CI logs).
class Progress {
public:
    explicit Progress(const char* what) : what_(what), tty_(isatty(STDERR_FILENO) != 0) {}

    void operator()(std::int64_t done, std::int64_t total) {
        int pct = total > 0 ? static_cast<int>(done * 100 / total) : 100;
        if ((!tty_ && pct / 10 == last_ / 10 && done != total) || done == last_done_) {
            return;
        }
        last_done_ = done;
        last_ = pct;
        auto secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        std::string bar(static_cast<std::size_t>(pct / 4), '#');
        bar.resize(25, '.');
        std::fprintf(stderr, "%sseed: %s [%s] %3d%% %lld/%lld %.1fs%s", tty_ ? "\r" : "", what_,
                     bar.c_str(), pct, static_cast<long long>(done), static_cast<long long>(total),
                     secs, tty_ && done != total ? "" : "\n");
    }

private:
    const char* what_;
    bool tty_;
    int last_ = -10;
    std::int64_t last_done_ = -1;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

bool parseCount(const char* text, std::int64_t& out) {
    try {
        std::size_t used = 0;
        out = std::stoll(text, &used);
        return used == std::string(text).size() && out >= 0;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

int runSeed(int argc, char** argv) {
    std::int64_t listings = -1;
    std::int64_t users = -1;
    std::int64_t seed = 42;
    std::string config_file;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        bool has_value = i + 1 < argc;
        std::int64_t* target = a == "--listings" ? &listings
                               : a == "--users"  ? &users
                               : a == "--seed"   ? &seed
                                                 : nullptr;
        if (target != nullptr && has_value && parseCount(argv[i + 1], *target)) {
            ++i;
        } else if (a == "--config" && has_value) {
            config_file = argv[++i];
        } else {
            std::fprintf(
                stderr,
                "usage: restinu seed --listings N --users M [--seed S] [--config FILE]\n\n"
                "Fills users_db and properties_db with realistic data by COPY: M accounts\n"
                "(one in ten an agent; password \"%s\") and N listings in 24 Indian\n"
                "cities owned by the agents, then rebuilds the search read model.\n"
                "The same seed gives the same listings. Needs migrated databases.\n",
                kPassword);
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    if (listings < 0 || users < 1) {
        std::fprintf(stderr,
                     "restinu seed: --listings N and --users M (at least 1) are required\n");
        return 2;
    }
    try {
        auto config = rt::Config::load(config_file);
        auto base = config.str("pg.url");
        config.check();
        auto started = std::chrono::steady_clock::now();
        auto tag =
            static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
        auto seeded = user::seedUsers(base + " dbname=" + databaseOf("user"), users, kPassword,
                                      tag % 1000000);
        std::fprintf(stderr, "seed: %lld accounts (%zu agents), password \"%s\"\n",
                     static_cast<long long>(users), seeded.agent_ids.size(), kPassword);
        if (seeded.agent_ids.empty()) {
            std::fprintf(stderr,
                         "restinu seed: no agent among the accounts; use --users 1 or more\n");
            return 2;
        }
        Progress progress("listings");
        property::SeedOptions o;
        o.listings = listings;
        o.seed = static_cast<std::uint64_t>(seed);
        o.progress = std::ref(progress);
        auto copy_done = std::chrono::steady_clock::now();
        auto n =
            property::seedListings(base + " dbname=" + databaseOf("property"), seeded.agent_ids, o);
        auto end = std::chrono::steady_clock::now();
        std::fprintf(
            stderr, "seed: %lld listings and the search read model in %.1fs (%.1fs in all)\n",
            static_cast<long long>(n), std::chrono::duration<double>(end - copy_done).count(),
            std::chrono::duration<double>(end - started).count());
        return 0;
    } catch (const rt::ConfigError& e) {
        std::fprintf(stderr, "restinu seed: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "restinu seed: %s\n", e.what());
        return 1;
    }
}

}  // namespace restinu::app
