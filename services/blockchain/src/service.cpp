#include "restinu/blockchain/service.hpp"

namespace restinu::blockchain {

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "blockchain";
    // The service's own routes arrive with its issue; until then it serves the runtime's
    // /healthz, /readyz (its database answers) and /metrics.
    s.configure = [](rt::Config&) { return rt::WireFn{[](rt::Shard&) {}}; };
    return s;
}

}  // namespace restinu::blockchain
