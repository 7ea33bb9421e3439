#pragma once

#include "restinu/rt/service.hpp"

namespace restinu::property {

/// Property: listings, search, images and Vastu. Only `restinu property` (app/main.cpp) calls
/// this.
rt::ServiceSpec spec();

}  // namespace restinu::property
