#include "restinu/rt/worker_pool.hpp"

#include "restinu/rt/problem.hpp"

namespace restinu::rt {

void WorkerPool::throwBusy() {
    throw ApiError(Problem{problems::kUnavailable,
                           "the server is busy with other work; try again shortly",
                           {},
                           {{"Retry-After", "1"}}});
}

}  // namespace restinu::rt
