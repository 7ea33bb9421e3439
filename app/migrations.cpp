#include "migrations.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace restinu::app {

std::vector<rt::Migration> migrationsFor(std::string_view service) {
    std::vector<rt::Migration> out;
    for (const auto& [svc, m] : allMigrations()) {
        if (svc == service) {
            out.push_back(m);
        }
    }
    std::sort(out.begin(), out.end(),
              [](const rt::Migration& a, const rt::Migration& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].version == out[i - 1].version) {
            throw std::logic_error("service " + std::string(service) + " has two migrations " +
                                   "with version " + std::to_string(out[i].version));
        }
    }
    return out;
}

}  // namespace restinu::app
