#pragma once

#include "restinu/rt/service.hpp"

namespace restinu::notification {

/// Notification: email, push, SMS and in-app. Only `restinu notification` (app/main.cpp) calls
/// this.
rt::ServiceSpec spec();

}  // namespace restinu::notification
