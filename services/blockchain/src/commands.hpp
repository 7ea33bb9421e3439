#pragma once

#include <vector>

#include "restinu/rt/service.hpp"

namespace restinu::blockchain {

/// `restinu blockchain deploy` (the platform's contracts, once) and `restinu blockchain status`.
std::vector<rt::ServiceCommand> operatorCommands();

}  // namespace restinu::blockchain
