#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace restinu::property {

struct SeedOptions {
    std::int64_t listings = 0;
    std::uint64_t seed = 42;  ///< the same seed gives the same listings
    /// Called every few thousand rows and at the end: (done, total).
    std::function<void(std::int64_t, std::int64_t)> progress;
};

/// Fills `properties` with realistic listings owned by `owner_ids` (COPY), then rebuilds the
/// search read model in bulk. Blocking: for the CLI. Returns the number of listings written.
std::int64_t seedListings(const std::string& conninfo, const std::vector<std::string>& owner_ids,
                          const SeedOptions& options);

}  // namespace restinu::property
