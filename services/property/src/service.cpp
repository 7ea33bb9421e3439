#include "restinu/property/service.hpp"

namespace restinu::property {

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "property";
    s.database = "properties_db";
    s.default_port = 8102;
    // The service's own routes arrive with its issue; until then it serves the runtime's
    // /healthz, /readyz (its database answers) and /metrics.
    s.configure = [](rt::Config&) { return rt::WireFn{[](rt::Shard&) {}}; };
    return s;
}

}  // namespace restinu::property
