// A consumer process for the SIGKILL test: it handles events and kills itself (SIGKILL) right
// after the Nth effect commits, before acknowledging it.
//   bus_consumer_helper CONNINFO REDIS_PORT GROUP AGGREGATE_TYPE CONSUMER DIE_AFTER
#include <signal.h>

#include <boost/asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bus_test_support.hpp"
#include "restinu/rt/bus.hpp"
#include "restinu/rt/pg.hpp"

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: bus_consumer_helper CONNINFO REDIS_PORT GROUP TYPE NAME N\n");
        return 2;
    }
    using namespace restinu;
    boost::asio::io_context io;
    rt::PgOptions po;
    po.conninfo = argv[1];
    po.size = 2;
    rt::PgPool pool(io, po);
    rt::ConsumerOptions co;
    co.group = argv[3];
    co.aggregate_types = {argv[4]};
    co.consumer = argv[5];
    co.block = std::chrono::milliseconds(200);
    co.batch = 1;  // one commit per event, so "after the 5th commit" is well defined
    co.redis.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    int die_after = std::atoi(argv[6]);
    int committed = 0;
    co.after_commit_for_test = [&](const rt::Event&) {
        if (++committed == die_after) {
            ::raise(SIGKILL);  // after the commit, before the XACK
        }
    };
    rt::EventConsumer consumer(io, pool, co, testing::recordEffect(co.group));
    consumer.start();
    io.run_for(std::chrono::seconds(60));
    return 1;  // never reached when the test works
}
