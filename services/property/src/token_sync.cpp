#include "token_sync.hpp"

#include <boost/json.hpp>

#include "listing_store.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/write_context.hpp"

namespace restinu::property {

rt::Task<void> applyTokenized(rt::PgConn& tx, const rt::Event& event) {
    if (event.type != contracts::PropertyTokenized::kType) {
        co_return;
    }
    const auto t = contracts::PropertyTokenized::parse(event.data);
    const boost::json::object token{
        {"deed_contract", t.deed_contract},
        {"token_id", t.token_id},
        {"shares_contract", t.shares_contract},
        {"symbol", t.symbol},
        {"total_shares", t.total_shares},
        {"price_per_share",
         boost::json::object{{"amount", t.price_minor}, {"currency", t.currency}}},
        {"metadata_uri", t.metadata_uri}};
    const rt::WriteContext ctx{"blockchain", event.id, event.trace_id};
    co_await ListingStore::setToken(tx, t.listing_id, boost::json::serialize(token), ctx);
}

}  // namespace restinu::property
