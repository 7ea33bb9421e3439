#pragma once

#include <vector>

#include "restinu/rt/service.hpp"

namespace restinu::payment {

/// `restinu payment reconcile` and `restinu payment purchase list|show|retry|compensate`
/// (also `restinu purchase ...`).
std::vector<rt::ServiceCommand> operatorCommands();

}  // namespace restinu::payment
