#pragma once

#include <cstdint>

#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
struct Event;
}  // namespace restinu::rt

/// The read model (table property_search), a projection of the write model fed by the
/// listing's property.* events: what searches read.
namespace restinu::property {

/// The projection: applies one `property.*` event to the read model in the consumer's
/// transaction. Idempotent and order-safe: a row only moves to a higher version.
rt::Task<void> applyToReadModel(rt::PgConn& tx, const rt::Event& event);

/// Rebuilds the read model from the write model in one transaction: writers wait, and readers
/// keep the old rows until it commits. `bulk` drops the read model's indexes and builds them
/// again after the copy (several times faster for a large table, but searches wait too).
/// Returns the number of listings.
rt::Task<std::int64_t> rebuildReadModel(rt::PgConn& tx, bool bulk = false);

}  // namespace restinu::property
