#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace restinu::user {

struct SeededUsers {
    std::vector<std::string> agent_ids;
    std::int64_t investors = 0;
};

/// Adds `count` accounts (one in ten an agent, the rest investors) named
/// seed-<n>-<i>@example.com, all with `password` (hashed once), by COPY. Blocking: for the CLI.
/// `run` tags the e-mails, so another run (another tag) adds new accounts.
SeededUsers seedUsers(const std::string& conninfo, std::int64_t count, const std::string& password,
                      std::uint64_t run);

}  // namespace restinu::user
