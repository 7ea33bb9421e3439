#pragma once

#include <string_view>
#include <vector>

#include "restinu/rt/service.hpp"

namespace restinu::app {

struct Command {
    std::string_view name;
    std::string_view summary;
    int (*run)(int argc, char** argv);  ///< argv[0] is the command's name
};

/// Every `restinu <command>`, in the order `restinu --help` lists them: each registry service
/// (services/registry.tsv), then the tools.
const std::vector<Command>& commands();

/// The spec of a registry service with its registry row's database and port and its embedded
/// migrations; an empty spec (no name) for an unknown name.
rt::ServiceSpec specFor(std::string_view name);

}  // namespace restinu::app
