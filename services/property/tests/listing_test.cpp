#include <gtest/gtest.h>

#include "property_fixture.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/base64.hpp"
#include "token_sync.hpp"
#include "user_roles.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;
using ListingTest = PropertyTest;

std::string text(const json::object& o) {
    return json::serialize(o);
}

std::vector<std::string> fields(const json::value& problem) {
    std::vector<std::string> out;
    for (const auto& e : problem.at("errors").as_array()) {
        out.emplace_back(e.at("field").as_string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// property.tokenized from the blockchain service: the listing shows its deed and shares, one
// version up with its own property.updated; the same event again changes nothing.
TEST_F(ListingTest, ATokenizedListingShowsItsDeedAndShares) {
    auto owner = person("agent");
    auto created = call(kCreate, {text(listing()), owner});
    ASSERT_EQ(created.status, 201);
    const std::string id(created.body.at("id").as_string());
    EXPECT_TRUE(call(kGet, {"", owner, id}).body.at("token").is_null());
    contracts::PropertyTokenized t;
    t.listing_id = id;
    t.deed_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    t.token_id = "340282366920938463463374607431768211455";
    t.shares_contract = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
    t.symbol = "RINU-ABC123";
    t.total_shares = 1000;
    t.price_minor = 4500000;
    t.currency = "INR";
    t.metadata_uri = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    auto e = rt::makeEvent(std::string(contracts::PropertyTokenized::kType), "tokenization", id,
                           t.data());
    for (int delivery = 0; delivery < 2; ++delivery) {  // redelivered: nothing more
        rt::runBlocking(io(), pool_->transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await applyTokenized(tx, e);
        }));
    }
    project();  // its property.updated, as the service's projection takes it (caches included)
    auto got = call(kGet, {"", std::nullopt, id});
    ASSERT_EQ(got.status, 200);
    const auto& token = got.body.at("token");
    EXPECT_EQ(token.at("shares_contract").as_string(), t.shares_contract);
    EXPECT_EQ(token.at("token_id").as_string(), t.token_id);
    EXPECT_EQ(token.at("total_shares").as_int64(), 1000);
    EXPECT_EQ(token.at("price_per_share").at("amount").as_int64(), 4500000);
    EXPECT_EQ(token.at("metadata_uri").as_string(), t.metadata_uri);
    EXPECT_EQ(got.body.at("version").as_int64(), created.body.at("version").as_int64() + 1);
    auto updated = rt::runBlocking(
        io(), pool_->query("SELECT count(*) FROM restinu_outbox WHERE aggregate_id = $1 AND "
                           "type = 'property.updated'",
                           id));
    EXPECT_EQ(updated.get(0, 0), "1");
}

TEST_F(ListingTest, AgentsAndAdminsCreateInvestorsAndStrangersCannot) {
    EXPECT_EQ(call(kCreate, {text(listing()), std::nullopt}).status, 401);
    EXPECT_EQ(call(kCreate, {text(listing()), person("investor")}).status, 403);
    auto agent = person("agent");
    auto r = call(kCreate, {text(listing()), agent});
    ASSERT_EQ(r.status, 201) << json::serialize(r.body);
    EXPECT_EQ(r.raw.header("ETag"), "\"1\"");
    EXPECT_EQ(r.body.at("owner_id").as_string(), agent.user_id);
    EXPECT_EQ(r.body.at("price").at("amount").as_int64(), 1'85'00'000'00);
    EXPECT_EQ(r.body.at("price").at("currency").as_string(), "INR");
    EXPECT_EQ(r.body.at("address").at("city").as_string(), "Mumbai");
    EXPECT_EQ(r.body.at("amenities").as_array().size(), 2u);
    std::string id(r.body.at("id").as_string());
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'property.created' AND "
                    "aggregate_id = $1",
                    id),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'property.create' AND "
                    "entity_id = $1",
                    id),
              1);
    EXPECT_EQ(call(kCreate, {text(listing()), person("admin")}).status, 201);
}

TEST_F(ListingTest, InvalidListingsAre422NamingEveryFieldAndNothingIsWritten) {
    auto bad = listing();
    bad["price"] = json::object{{"amount", -5}, {"currency", "XYZ"}};
    bad["location"] = json::object{{"lat", 95.0}, {"lng", 72.9}};
    bad["property_type"] = "castle";
    bad["facing"] = "UP";
    bad["colour"] = "blue";
    bad.erase("title");
    auto before = count("SELECT count(*) FROM properties WHERE $1 = $1", "x");
    auto r = call(kCreate, {text(bad), person("agent")});
    ASSERT_EQ(r.status, 422);
    EXPECT_EQ(fields(r.body),
              (std::vector<std::string>{"colour", "facing", "location.lat", "price.amount",
                                        "price.currency", "property_type", "title"}));
    EXPECT_EQ(count("SELECT count(*) FROM properties WHERE $1 = $1", "x"), before);
    auto sold = listing();
    sold["status"] = "sold";
    EXPECT_EQ(call(kCreate, {text(sold), person("agent")}).status, 422);
    EXPECT_EQ(call(kCreate, {"[1,2]", person("agent")}).status, 422);
    EXPECT_EQ(call(kCreate, {"{\"title\":", person("agent")}).status, 400);
}

TEST_F(ListingTest, DraftsAreVisibleToTheirOwnerAndAdminsOnly) {
    auto agent = person("agent");
    auto draft = listing();
    draft["status"] = "draft";
    auto r = call(kCreate, {text(draft), agent});
    ASSERT_EQ(r.status, 201);
    std::string id(r.body.at("id").as_string());
    EXPECT_EQ(call(kGet, {"", agent, id}).status, 200);
    EXPECT_EQ(call(kGet, {"", person("admin"), id}).status, 200);
    EXPECT_EQ(call(kGet, {"", person("agent"), id}).status, 404);
    EXPECT_EQ(call(kGet, {"", std::nullopt, id}).status, 404);
    EXPECT_EQ(call(kGet, {"", std::nullopt, "not-a-uuid"}).status, 404);
}

TEST_F(ListingTest, PatchNeedsIfMatchAndAStaleVersionIs412) {
    auto agent = person("agent");
    auto created = call(kCreate, {text(listing()), agent});
    std::string id(created.body.at("id").as_string());
    auto cheaper = text({{"price", json::object{{"amount", 1'70'00'000'00}, {"currency", "INR"}}}});
    EXPECT_EQ(call(kUpdate, {cheaper, agent, id}).status, 428);
    auto ok = call(kUpdate, {cheaper, agent, id, "", "\"1\""});
    ASSERT_EQ(ok.status, 200) << json::serialize(ok.body);
    EXPECT_EQ(ok.raw.header("ETag"), "\"2\"");
    EXPECT_EQ(ok.body.at("price").at("amount").as_int64(), 1'70'00'000'00);
    EXPECT_EQ(ok.body.at("title").as_string(), "3 BHK Apartment in Powai");  // untouched
    // A second writer who read version 1 loses, and is told the current version.
    auto stale = call(kUpdate, {text({{"bedrooms", 4}}), agent, id, "", "\"1\""});
    EXPECT_EQ(stale.status, 412);
    EXPECT_EQ(stale.raw.header("ETag"), "\"2\"");
    EXPECT_EQ(count("SELECT bedrooms FROM properties WHERE id = $1::uuid", id), 3);
    EXPECT_EQ(call(kUpdate, {text({{"bedrooms", 4}}), agent, id, "", "W/\"2\""}).status, 200);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'property.updated' AND "
                    "aggregate_id = $1",
                    id),
              2);
}

TEST_F(ListingTest, OnlyTheOwnerOrAnAdminChangesOrWithdraws) {
    auto owner = person("agent");
    auto created = call(kCreate, {text(listing()), owner});
    std::string id(created.body.at("id").as_string());
    auto rival = person("agent");
    EXPECT_EQ(call(kUpdate, {text({{"bedrooms", 1}}), rival, id, "", "*"}).status, 403);
    EXPECT_EQ(call(kWithdraw, {"", rival, id}).status, 403);
    EXPECT_EQ(call(kUpdate, {text({{"bedrooms", 1}}), person("investor"), id, "", "*"}).status,
              403);
    auto admin =
        call(kUpdate, {text({{"title", "Renamed by an admin"}}), person("admin"), id, "", "*"});
    ASSERT_EQ(admin.status, 200);
    EXPECT_EQ(admin.body.at("owner_id").as_string(), owner.user_id);
    auto gone = call(kWithdraw, {"", owner, id});
    ASSERT_EQ(gone.status, 200);
    EXPECT_EQ(gone.body.at("status").as_string(), "withdrawn");
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'property.withdrawn' AND "
                    "aggregate_id = $1",
                    id),
              1);
    // Withdrawn listings disappear from strangers' view.
    EXPECT_EQ(call(kGet, {"", rival, id}).status, 404);
}

// Admin and agent rights follow the user service's events, not the token's claim: a demoted
// admin whose token still says "admin" loses them at once (ADR 0004). Before, the property
// service trusted the token until it expired.
TEST_F(ListingTest, ADemotedAdminLosesItsRightsBeforeItsTokenExpires) {
    auto owner = person("agent");
    auto created = call(kCreate, {text(listing()), owner});
    ASSERT_EQ(created.status, 201);
    std::string id(created.body.at("id").as_string());
    auto admin = person("admin");  // the token's claim
    auto roleEvent = [&](const std::string& type, const std::string& role) {
        // Built from the contracts, as the user service builds them.
        auto data =
            type == contracts::UserRegistered::kType
                ? contracts::UserRegistered{admin.user_id, "a@example.com", role, "", "en"}.data()
                : contracts::UserRoleChanged{admin.user_id, role, "admin", "someone"}.data();
        auto e = rt::makeEvent(type, "user", admin.user_id, data);
        rt::runBlocking(io(), pool_->transaction([&e](rt::PgConn& tx) -> rt::Task<void> {
            co_await applyUserRole(tx, e);
        }));
        return e;
    };
    // Unknown to the copy: the token's role holds.
    EXPECT_EQ(call(kUpdate, {text({{"title", "Renamed by an admin"}}), admin, id, "", "*"}).status,
              200);
    auto promoted = roleEvent("user.registered", "admin");
    roleEvent("user.role_changed", "investor");
    EXPECT_EQ(call(kUpdate, {text({{"bedrooms", 1}}), admin, id, "", "*"}).status, 403);
    EXPECT_EQ(call(kWithdraw, {"", admin, id}).status, 403);
    EXPECT_EQ(call(kCreate, {text(listing()), admin}).status, 403);
    // An older event delivered late does not undo the newer one.
    rt::runBlocking(io(), pool_->transaction([&promoted](rt::PgConn& tx) -> rt::Task<void> {
        co_await applyUserRole(tx, promoted);
    }));
    EXPECT_EQ(count("SELECT count(*) FROM user_roles WHERE user_id = $1::uuid AND role = "
                    "'investor'",
                    admin.user_id),
              1);
    // Promoted to agent: it may list, before it signs in again.
    roleEvent("user.role_changed", "agent");
    EXPECT_EQ(call(kCreate, {text(listing()), person("investor")}).status, 403);
    auto investor_token = admin;
    investor_token.roles = {"investor"};
    EXPECT_EQ(call(kCreate, {text(listing()), investor_token}).status, 201);
}

// An agent's desk: every listing of theirs in any status (drafts and withdrawn ones too), newest
// first, in keyset pages; nobody else's, and nobody sees another's.
TEST_F(ListingTest, MyListingsHoldEveryStatusOfMineOnlyInPages) {
    auto agent = person("agent");
    auto other = person("agent");
    std::vector<std::string> mine;  // oldest first
    for (const char* status : {"active", "draft", "active", "draft", "active"}) {
        auto l = listing(std::string("Mine ") + status);
        l["status"] = status;
        auto r = call(kCreate, {text(l), agent});
        ASSERT_EQ(r.status, 201);
        mine.emplace_back(r.body.at("id").as_string());
    }
    ASSERT_EQ(call(kWithdraw, {"", agent, mine[0]}).status, 200);
    ASSERT_EQ(call(kCreate, {text(listing("Someone else's")), other}).status, 201);

    std::vector<std::string> seen;
    std::string cursor;
    int pages = 0;
    do {
        auto r =
            call(kMine, {"", agent, "", "limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor)});
        ASSERT_EQ(r.status, 200) << r.raw.payload();
        EXPECT_EQ(r.raw.header("Cache-Control"), "private, no-store");
        for (const auto& item : r.body.at("items").as_array()) {
            EXPECT_EQ(item.at("owner_id").as_string(), agent.user_id);
            seen.emplace_back(item.at("id").as_string());
        }
        const auto& next = r.body.at("next_cursor");
        cursor = next.is_null() ? "" : std::string(next.as_string());
        ++pages;
    } while (!cursor.empty() && pages < 10);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen, (std::vector<std::string>(mine.rbegin(), mine.rend())));

    auto drafts = call(kMine, {"", agent, "", "status=draft"});
    ASSERT_EQ(drafts.status, 200);
    ASSERT_EQ(drafts.body.at("items").as_array().size(), 2U);
    EXPECT_EQ(drafts.body.at("items").as_array()[0].at("id").as_string(), mine[3]);
    EXPECT_EQ(drafts.body.at("items").as_array()[0].at("status").as_string(), "draft");
    auto withdrawn = call(kMine, {"", agent, "", "status=withdrawn"});
    ASSERT_EQ(withdrawn.body.at("items").as_array().size(), 1U);
    EXPECT_EQ(withdrawn.body.at("items").as_array()[0].at("id").as_string(), mine[0]);

    // Another agent's list holds only theirs (a cursor naming one of mine positions theirs by
    // its time, and theirs is newer); a newcomer has none.
    auto theirs = call(kMine, {"", other, "", "cursor=" + rt::base64UrlEncode(mine[2])});
    ASSERT_EQ(theirs.status, 200);
    EXPECT_TRUE(theirs.body.at("items").as_array().empty());
    EXPECT_EQ(call(kMine, {"", other}).body.at("items").as_array().size(), 1U);
    auto none = call(kMine, {"", person("investor")});
    EXPECT_TRUE(none.body.at("items").as_array().empty());
    EXPECT_TRUE(none.body.at("next_cursor").is_null());

    EXPECT_EQ(call(kMine, {"", std::nullopt}).status, 401);
    auto bad = call(kMine, {"", agent, "", "status=gone&limit=0&cursor=zz&owner=x"});
    ASSERT_EQ(bad.status, 400);
    EXPECT_EQ(bad.body.at("type").as_string(), "https://restinu.dev/problems/invalid-query");
    EXPECT_EQ(fields(bad.body), (std::vector<std::string>{"cursor", "limit", "owner", "status"}));
    EXPECT_EQ(call(kMine, {"", agent, "", "limit=101"}).status, 400);

    // The listing a cursor names is sold (its owner changes): the next page still follows it.
    auto first = call(kMine, {"", agent, "", "limit=2"});
    ASSERT_EQ(first.status, 200);
    const std::string after(first.body.at("next_cursor").as_string());
    rt::runBlocking(io(),
                    pool_->query("UPDATE properties SET owner_id = $1::uuid WHERE id = $2::uuid",
                                 other.user_id, mine[3]));
    auto second = call(kMine, {"", agent, "", "limit=2&cursor=" + after});
    ASSERT_EQ(second.status, 200);
    std::vector<std::string> rest;
    for (const auto& item : second.body.at("items").as_array()) {
        rest.emplace_back(item.at("id").as_string());
    }
    EXPECT_EQ(rest, (std::vector<std::string>{mine[2], mine[1]}));
    // Back as it was (written behind the events' back: the read model never heard of it).
    rt::runBlocking(io(),
                    pool_->query("UPDATE properties SET owner_id = $1::uuid WHERE id = $2::uuid",
                                 agent.user_id, mine[3]));
}

TEST_F(ListingTest, OnlyTransitionsThatMakeSense) {
    auto agent = person("agent");
    auto created = call(kCreate, {text(listing()), agent});
    std::string id(created.body.at("id").as_string());
    auto to = [&](const char* status) {
        return call(kUpdate, {text({{"status", status}}), agent, id, "", "*"});
    };
    EXPECT_EQ(to("sold").status, 409);  // active → sold skips the reservation
    EXPECT_EQ(to("reserved").status, 200);
    EXPECT_EQ(to("sold").status, 200);
    auto back = to("active");
    EXPECT_EQ(back.status, 409);  // sold is final
    EXPECT_EQ(back.body.at("type").as_string(),
              "https://restinu.dev/problems/invalid-status-transition");
    EXPECT_EQ(call(kWithdraw, {"", agent, id}).status, 409);
    EXPECT_EQ(to("bogus").status, 422);
    EXPECT_EQ(count("SELECT count(*) FROM restinu_outbox WHERE type = 'property.status_changed' "
                    "AND aggregate_id = $1",
                    id),
              2);
}

TEST_F(ListingTest, TheProjectionFollowsEveryChangeAndARebuildGivesTheSameReadModel) {
    auto agent = person("agent");
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto r =
            call(kCreate, {text(listing("Listing " + std::to_string(i) + " in Powai")), agent});
        ids.emplace_back(r.body.at("id").as_string());
    }
    call(kUpdate, {text({{"bedrooms", 5}}), agent, ids[0], "", "*"});
    call(kUpdate, {text({{"status", "reserved"}}), agent, ids[1], "", "*"});
    call(kWithdraw, {"", agent, ids[2]});
    project();
    // Applying the same events again changes nothing (idempotent, version-guarded).
    projected_ = 0;
    project();
    const std::string dump =
        "SELECT string_agg((to_jsonb(s) - 'change_seq')::text, E'\\n' ORDER BY id) "
        "FROM property_search s WHERE $1 = $1";  // (the change number differs, by design)
    auto by_events = rt::runBlocking(io(), pool_->query(dump, "x"));
    std::string events_text(by_events.get(0, 0));
    EXPECT_NE(events_text.find(ids[0]), std::string::npos);
    EXPECT_EQ(count("SELECT bedrooms FROM property_search WHERE id = $1::uuid", ids[0]), 5);
    rt::runBlocking(io(), pool_->transaction([](rt::PgConn& tx) -> rt::Task<void> {
        co_await rebuildReadModel(tx);
    }));
    EXPECT_EQ(std::string(rt::runBlocking(io(), pool_->query(dump, "x")).get(0, 0)), events_text);
    // The bulk rebuild drops the indexes and builds them again: every one of them.
    const std::string indexes =
        "SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes WHERE tablename = $1";
    std::string before(rt::runBlocking(io(), pool_->query(indexes, "property_search")).get(0, 0));
    EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE tablename = $1", "property_search"), 12);
    rt::runBlocking(io(), pool_->transaction([](rt::PgConn& tx) -> rt::Task<void> {
        co_await rebuildReadModel(tx, true);
    }));
    EXPECT_EQ(std::string(rt::runBlocking(io(), pool_->query(dump, "x")).get(0, 0)), events_text);
    EXPECT_EQ(
        std::string(rt::runBlocking(io(), pool_->query(indexes, "property_search")).get(0, 0)),
        before);
}

}  // namespace
}  // namespace restinu::property
