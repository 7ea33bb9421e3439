#pragma once

#include "restinu/rt/service.hpp"

namespace restinu::blockchain {

/// Blockchain: contracts, transactions and the indexer. Only `restinu blockchain`
/// (app/main.cpp) calls this.
rt::ServiceSpec spec();

}  // namespace restinu::blockchain
