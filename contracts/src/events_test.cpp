#include "restinu/contracts/events.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace restinu::contracts {
namespace {

TEST(Contracts, EachEventRoundTripsThroughItsData) {
    UserRegistered r{"u1", "a@example.com", "investor", "Asha Rao", "hi"};
    auto r2 = UserRegistered::parse(r.data());
    EXPECT_EQ(r2.user_id, "u1");
    EXPECT_EQ(r2.email, "a@example.com");
    EXPECT_EQ(r2.role, "investor");
    EXPECT_EQ(r2.name, "Asha Rao");
    EXPECT_EQ(r2.language, "hi");
    // An event written before name and language existed still parses, with the defaults.
    auto old = UserRegistered::parse(R"({"user_id":"u2","email":"b@example.com","role":"agent"})");
    EXPECT_EQ(old.name, "");
    EXPECT_EQ(old.language, "en");
    auto device = UserNewDevice::parse(UserNewDevice{"u1", "Firefox/140", "203.0.113.9"}.data());
    EXPECT_EQ(device.device, "Firefox/140");
    EXPECT_EQ(device.ip, "203.0.113.9");
    auto profile = UserProfileChanged::parse(
        UserProfileChanged{"u1", "a@example.com", "Asha", std::nullopt, "en"}.data());
    EXPECT_FALSE(profile.phone);
    EXPECT_EQ(profile.name, "Asha");
    auto v = EmailVerified::parse(EmailVerified{"u1", "a@example.com"}.data());
    EXPECT_EQ(v.email, "a@example.com");
    auto f = UserLoginFailed::parse(UserLoginFailed{std::nullopt, "203.0.113.7", "x"}.data());
    EXPECT_FALSE(f.user_id);
    EXPECT_EQ(f.ip, "203.0.113.7");
    auto c = UserRoleChanged::parse(UserRoleChanged{"u1", "agent", "investor", "a1"}.data());
    EXPECT_EQ(c.role, "agent");
    EXPECT_EQ(c.previous_role, "investor");
    auto rejected = KycDecided{false, "u1", "a1", "blurred"};
    auto d = KycDecided::parse(rejected.type(), rejected.data());
    EXPECT_FALSE(d.approved);
    EXPECT_EQ(d.reason, "blurred");
    PropertyChanged p{R"({"id":"p1","status":"sold"})", 4, "reserved", "sold"};
    auto p2 = PropertyChanged::parse(p.data());
    EXPECT_EQ(p2.version, 4);
    EXPECT_EQ(p2.from, "reserved");
    EXPECT_NE(p2.listing_json.find("\"sold\""), std::string::npos);
}

TEST(Contracts, DataThatBreaksItsContractIsAnErrorNotAnEmptyField) {
    EXPECT_THROW(UserRegistered::parse(R"({"user_id":"u1","email":"a@example.com"})"),
                 ContractError);
    EXPECT_THROW(UserRoleChanged::parse(R"({"user_id":1})"), ContractError);
    EXPECT_THROW(UserRegistered::parse("[1]"), ContractError);
    EXPECT_THROW(KycDecided::parse("user.kyc.rejected", R"({"user_id":"u","decided_by":"a"})"),
                 ContractError);
    EXPECT_THROW(PropertyChanged::parse(R"({"listing":"x","version":1})"), ContractError);
}

// docs/events.md has a row for every event type, naming its every field, and no row for a
// type that has no contract.
TEST(Contracts, TheEventCatalogueInTheDocsMatchesTheContracts) {
    std::ifstream in(std::string(RESTINU_SOURCE_DIR) + "/docs/events.md");
    ASSERT_TRUE(in);
    std::map<std::string, std::string> rows;  // type → its table row
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("| `", 0) != 0) {
            continue;
        }
        auto end = line.find('`', 3);
        auto type = line.substr(3, end - 3);
        if (type.find('.') != std::string::npos && type.find(' ') == std::string::npos) {
            rows[type] = line;
        }
    }
    std::set<std::string> contracted;
    for (const auto& e : catalogue()) {
        contracted.emplace(e.type);
        auto it = rows.find(std::string(e.type));
        ASSERT_NE(it, rows.end()) << e.type << " has no row in docs/events.md";
        for (auto field : e.fields) {
            EXPECT_NE(it->second.find("`" + std::string(field) + "`"), std::string::npos)
                << e.type << ": docs/events.md does not name the field " << field;
        }
    }
    for (const auto& [type, row] : rows) {
        EXPECT_TRUE(contracted.count(type) == 1) << type << " is documented but has no contract";
    }
}

}  // namespace
}  // namespace restinu::contracts
