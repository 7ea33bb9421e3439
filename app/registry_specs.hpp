#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "restinu/rt/service.hpp"

namespace restinu::app {

using SpecFn = rt::ServiceSpec (*)();

/// Every registry service's spec(), by name (generated from services/registry.tsv).
const std::vector<std::pair<std::string_view, SpecFn>>& specFunctions();

}  // namespace restinu::app
