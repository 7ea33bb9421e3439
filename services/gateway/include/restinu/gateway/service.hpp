#pragma once

#include "restinu/rt/service.hpp"

namespace restinu::gateway {

/// The only public entry: forwards `/api/v1/...` by path prefix to the service that owns it.
/// Only `restinu gateway` (app/main.cpp) calls this.
rt::ServiceSpec spec();

}  // namespace restinu::gateway
