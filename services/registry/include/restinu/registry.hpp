#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

/// The service registry: every service of the platform, one row each, generated from
/// services/registry.tsv (the only list of them) by cmake/registry.cmake. The subcommands,
/// `migrate all`, the gateway's routes and default upstreams, `make run` and the tests read it.
namespace restinu::registry {

struct Service {
    std::string_view name;
    std::string_view database;  ///< "" for a service without one (the gateway)
    std::uint16_t default_port;
    int instances;                           ///< how many `make run` starts
    std::vector<std::string_view> prefixes;  ///< public path prefixes the gateway forwards to it
    std::string_view summary;                ///< one line for `restinu --help`
};

/// Every service, in the file's order.
const std::vector<Service>& services();

/// The row of `name`, or nullptr.
inline const Service* find(std::string_view name) {
    for (const auto& s : services()) {
        if (s.name == name) {
            return &s;
        }
    }
    return nullptr;
}

}  // namespace restinu::registry
