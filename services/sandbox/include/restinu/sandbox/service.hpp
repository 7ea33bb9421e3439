#pragma once

#include "restinu/rt/service.hpp"

namespace restinu::sandbox {

/// The card provider's sandbox: a local process that speaks the Stripe PaymentIntents shape
/// (form bodies, Idempotency-Key, signed webhooks) for `make run` and the tests, keeps its own
/// record of every charge, and fails on request (services/sandbox/src/book.hpp lists how).
/// Only `restinu sandbox` (app/main.cpp) calls this.
rt::ServiceSpec spec();

}  // namespace restinu::sandbox
