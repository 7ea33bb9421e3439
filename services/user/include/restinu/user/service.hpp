#pragma once

#include "restinu/rt/service.hpp"

namespace restinu::user {

/// User: accounts, tokens, sessions, profile and KYC. Only `restinu user` (app/main.cpp)
/// calls this.
rt::ServiceSpec spec();

}  // namespace restinu::user
