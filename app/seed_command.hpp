#pragma once

namespace restinu::app {

/// `restinu seed --listings N --users M [--seed S] [--config FILE]`.
int runSeed(int argc, char** argv);

}  // namespace restinu::app
