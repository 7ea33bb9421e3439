#pragma once

#include "restinu/rt/service.hpp"

namespace restinu::payment {

/// Payment: the double-entry ledger and the card provider. Only `restinu payment`
/// (app/main.cpp) calls this.
rt::ServiceSpec spec();

}  // namespace restinu::payment
