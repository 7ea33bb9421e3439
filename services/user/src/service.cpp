#include "restinu/user/service.hpp"

namespace restinu::user {

rt::ServiceSpec spec() {
    rt::ServiceSpec s;
    s.name = "user";
    s.database = "users_db";
    s.default_port = 8101;
    // The service's own routes arrive with its issue; until then it serves the runtime's
    // /healthz, /readyz (its database answers) and /metrics.
    s.configure = [](rt::Config&) { return rt::WireFn{[](rt::Shard&) {}}; };
    return s;
}

}  // namespace restinu::user
