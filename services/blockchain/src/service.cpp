#include "restinu/blockchain/service.hpp"

namespace restinu::blockchain {

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "blockchain";
    s.database = "chain_db";
    s.default_port = 8105;
    // The service's own routes arrive with its issue; until then it serves the runtime's
    // /healthz, /readyz (its database answers) and /metrics.
    s.configure = [](rt::Config&) { return rt::WireFn{[](rt::Shard&) {}}; };
    return s;
}

}  // namespace restinu::blockchain
