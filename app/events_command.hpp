#pragma once

#include <string>
#include <string_view>

namespace restinu::app {

/// `restinu events ...`: streams and lag, dead letters, replay (docs/events.md).
int runEvents(int argc, char** argv);

/// The database of a service ("users_db" for "user"), or "" when it has none.
std::string databaseOf(std::string_view service);

}  // namespace restinu::app
