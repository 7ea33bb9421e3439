#include "migrations.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace restinu::app {
namespace {

std::vector<rt::Migration> scope(std::string_view name) {
    std::vector<rt::Migration> out;
    for (const auto& m : allMigrations()) {
        if (m.scope == name) {
            out.push_back(m);
        }
    }
    std::sort(out.begin(), out.end(),
              [](const rt::Migration& a, const rt::Migration& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].version == out[i - 1].version) {
            throw std::logic_error("scope " + std::string(name) + " has two migrations " +
                                   "with version " + std::to_string(out[i].version));
        }
    }
    return out;
}

}  // namespace

std::vector<rt::Migration> migrationsFor(std::string_view service, bool has_database) {
    if (!has_database) {
        return {};
    }
    auto out = scope("runtime");
    auto own = scope(service);
    out.insert(out.end(), own.begin(), own.end());
    return out;
}

}  // namespace restinu::app
