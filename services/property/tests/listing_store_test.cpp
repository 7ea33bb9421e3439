// The listing store against a real database, alone: a listing goes in and comes back field for
// field (read by column name), a change is one version up with the event its kind calls for,
// and a transaction that rolls back leaves neither the row nor its event.
#include "listing_store.hpp"

#include <gtest/gtest.h>

#include "property_fixture.hpp"
#include "restinu/rt/events.hpp"

namespace restinu::property {
namespace {

const rt::WriteContext kCtx{"agent-1", "req-listing", ""};

class ListingStoreTest : public PropertyTest {
protected:
    static domain::Listing sample() {
        std::vector<rt::FieldError> errors;
        domain::Listing l;
        domain::applyFields(listing("Store test flat"), l, true, errors);
        EXPECT_TRUE(errors.empty());
        return l;
    }
};

TEST_F(ListingStoreTest, AListingComesBackAsItWentInWithItsCreatedEvent) {
    auto id = rt::newUuidV7();
    auto owner = rt::newUuidV7();
    auto l = sample();
    auto stored =
        rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<StoredListing> {
            co_return co_await ListingStore::insert(tx, id, owner, l, kCtx);
        }));
    EXPECT_EQ(stored.id, id);
    EXPECT_EQ(stored.owner_id, owner);
    EXPECT_EQ(stored.version, 1);
    ListingStore store(*pool_);
    auto found = rt::runBlocking(io(), store.find(id));
    ASSERT_TRUE(found);
    const auto& f = found->listing;
    EXPECT_EQ(f.title, l.title);
    EXPECT_EQ(f.description, l.description);
    EXPECT_EQ(f.price_minor, l.price_minor);
    EXPECT_EQ(f.currency, l.currency);
    EXPECT_EQ(f.bedrooms, l.bedrooms);
    EXPECT_EQ(f.city, l.city);
    EXPECT_EQ(f.postal_code, l.postal_code);
    EXPECT_DOUBLE_EQ(f.latitude, l.latitude);
    EXPECT_DOUBLE_EQ(f.longitude, l.longitude);
    EXPECT_EQ(f.facing, l.facing);
    EXPECT_EQ(f.amenities, l.amenities);
    EXPECT_EQ(found->created_at, stored.created_at);
    EXPECT_NE(found->row_json.find(id), std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'property.created' AND "
                    "aggregate_id = $1",
                    id),
              1);
    EXPECT_FALSE(rt::runBlocking(io(), store.find(rt::newUuidV7())));
}

TEST_F(ListingStoreTest, AChangeIsOneVersionUpWithTheEventItsKindCallsFor) {
    auto id = rt::newUuidV7();
    auto l = sample();
    rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await ListingStore::insert(tx, id, rt::newUuidV7(), l, kCtx);
    }));
    auto change = [&](auto edit) {
        return rt::runBlocking(
            io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<StoredListing> {
                auto before = co_await ListingStore::lock(tx, id);
                auto next = before->listing;
                edit(next);
                co_return co_await ListingStore::update(tx, *before, next, "property.update", kCtx);
            }));
    };
    auto priced = change([](domain::Listing& x) { x.price_minor += 100; });
    EXPECT_EQ(priced.version, 2);
    EXPECT_EQ(priced.listing.price_minor, l.price_minor + 100);
    auto withdrawn = change([](domain::Listing& x) { x.status = "withdrawn"; });
    EXPECT_EQ(withdrawn.version, 3);
    auto types = rt::runBlocking(
        io(), pool_->query("SELECT string_agg(type, ',' ORDER BY seq) FROM restinu_outbox WHERE "
                           "aggregate_id = $1",
                           id));
    EXPECT_EQ(types.get(0, 0), "property.created,property.updated,property.withdrawn");
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE entity_id = $1 AND action = "
                    "'property.update'",
                    id),
              2);
}

TEST_F(ListingStoreTest, ARolledBackInsertLeavesNeitherRowNorEvent) {
    auto id = rt::newUuidV7();
    auto l = sample();
    EXPECT_THROW(rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
                     co_await ListingStore::insert(tx, id, rt::newUuidV7(), l, kCtx);
                     throw std::runtime_error("a later step failed");
                 })),
                 std::runtime_error);
    EXPECT_EQ(count("SELECT count(*) FROM properties WHERE id::text = $1", id), 0);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE aggregate_id = $1", id), 0);
    auto locked = rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<bool> {
        auto row = co_await ListingStore::lock(tx, id);
        co_return row.has_value();
    }));
    EXPECT_FALSE(locked);
}

}  // namespace
}  // namespace restinu::property
