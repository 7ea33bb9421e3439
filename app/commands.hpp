#pragma once

#include <string_view>
#include <vector>

namespace restinu::app {

struct Command {
    std::string_view name;
    std::string_view summary;
    int (*run)(int argc, char** argv);  ///< argv[0] is the command's name
};

/// Every `restinu <command>`, in the order `restinu --help` lists them.
const std::vector<Command>& commands();

}  // namespace restinu::app
