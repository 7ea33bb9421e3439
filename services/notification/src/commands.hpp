#pragma once

#include <vector>

#include "restinu/rt/service.hpp"

namespace restinu::notification {

/// `restinu notification messages [--status S] [--user ID] [--limit N]` and
/// `restinu notification requeue ID...|--all-dead`.
std::vector<rt::ServiceCommand> operatorCommands();

}  // namespace restinu::notification
