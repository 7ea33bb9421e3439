#include <cstdio>
#include <string_view>

#include "commands.hpp"

namespace {

void usage(std::FILE* out) {
    std::fprintf(out, "usage: restinu <command> [options]   (restinu <command> --help)\n\n");
    std::fprintf(out, "commands:\n");
    for (const auto& c : restinu::app::commands()) {
        std::fprintf(out, "  %-14.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return 0;
    }
    for (const auto& c : restinu::app::commands()) {
        if (c.name == name) {
            return c.run(argc - 1, argv + 1);
        }
    }
    std::fprintf(stderr, "restinu: unknown command %s\n\n", argv[1]);
    usage(stderr);
    return 2;
}
