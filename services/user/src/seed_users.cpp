#include <random>

#include "passwords.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg_copy.hpp"
#include "restinu/user/seed.hpp"

namespace restinu::user {

SeededUsers seedUsers(const std::string& conninfo, std::int64_t count, const std::string& password,
                      std::uint64_t run) {
    SeededUsers out;
    auto hash = hashPassword(password);
    std::int64_t i = 0;
    static constexpr const char* kFirst[] = {"Aarav", "Diya",  "Ishaan", "Ananya", "Kabir",
                                             "Meera", "Rohan", "Saanvi", "Vikram", "Zara"};
    static constexpr const char* kLast[] = {"Sharma", "Iyer", "Reddy", "Banerjee", "Patel",
                                            "Khan",   "Nair", "Gupta", "Singh",    "Das"};
    std::mt19937_64 rng(run);
    rt::copyIn(
        conninfo, "COPY users (id, email, password_hash, name, role) FROM STDIN",
        [&](rt::CopyRow& row) {
            if (i == count) {
                return false;
            }
            auto id = rt::newUuidV7();
            bool agent = i % 10 == 0;
            std::string name = std::string(kFirst[rng() % 10]) + " " + kLast[rng() % 10];
            row.field(id)
                .field("seed-" + std::to_string(run) + "-" + std::to_string(i) + "@example.com")
                .field(hash)
                .field(name)
                .field(agent ? "agent" : "investor");
            if (agent) {
                out.agent_ids.push_back(id);
            } else {
                ++out.investors;
            }
            ++i;
            return true;
        });
    return out;
}

}  // namespace restinu::user
