// Vastu certification through the service's routes (as the gateway forwards them) on a real
// PostgreSQL and Redis: who may certify, validation, the signed certificate verified with the
// published key, superseding, and the listing showing its latest score.

#include "property_fixture.hpp"
#include "restinu/contracts/events.hpp"
#include "restinu/rt/base64.hpp"
#include "restinu/rt/digest.hpp"
#include "vastu_certificate.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;

constexpr Route kCertify{rt::Method::Post, "/api/v1/properties/{id}/vastu"};
constexpr Route kCertificate{rt::Method::Get, "/api/v1/vastu/certificates/{id}"};
constexpr Route kPublicKey{rt::Method::Get, "/api/v1/vastu/public-key"};

// RFC 8032's first test key (a fixed seed: the test knows the public key it must publish).
constexpr std::string_view kSeedHex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kPublicKeyHex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

std::string layout(std::string_view entrance) {
    return R"({"facing":"E","elements":{"main_entrance":")" + std::string(entrance) +
           R"(","kitchen":"SE","master_bedroom":"SW"}})";
}

class VastuServiceTest : public PropertyTest {
protected:
    std::string serviceConfig() const override {
        return config() + "vastu:\n  signing_key: \"" + std::string(kSeedHex) + "\"\n";
    }
    std::string newListing(const rt::Identity& owner) {
        auto r = call(kCreate, {json::serialize(listing()), owner});
        EXPECT_EQ(r.status, 201);
        return std::string(r.body.at("id").as_string());
    }
    static std::string unbase64url(std::string_view s) {
        auto decoded = rt::base64UrlDecode(s);
        EXPECT_TRUE(decoded.has_value()) << s;
        return decoded.value_or("");
    }
};

TEST_F(VastuServiceTest, TheOwnerCertifiesAndAnyoneVerifiesWithThePublishedKey) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto r = call(kCertify, {layout("NE"), owner, id});
    ASSERT_EQ(r.status, 201) << json::serialize(r.body);
    // Entrance NE, kitchen SE, master bedroom SW, centre free: every weight at 100 → 100, A.
    EXPECT_EQ(r.body.at("certificate").at("score").as_int64(), 100);
    EXPECT_EQ(r.body.at("certificate").at("grade").as_string(), "A");
    EXPECT_EQ(r.body.at("certificate").at("property_id").as_string(), id);
    EXPECT_EQ(r.body.at("status").as_string(), "current");
    EXPECT_FALSE(r.body.at("findings").as_array().empty());
    const auto cert_id = std::string(r.body.at("certificate").at("certificate_id").as_string());
    EXPECT_EQ(r.raw.header("Location"), "/api/v1/vastu/certificates/" + cert_id);

    // Anyone reads it and the key; the signature verifies over the payload's bytes, and not
    // after one byte of them changes.
    auto got = call(kCertificate, {"", std::nullopt, cert_id});
    ASSERT_EQ(got.status, 200);
    auto key = call(kPublicKey, {"", std::nullopt});
    ASSERT_EQ(key.status, 200);
    const auto public_key = unbase64url(key.body.at("public_key").as_string());
    EXPECT_EQ(rt::toHex(public_key), kPublicKeyHex);
    auto payload = unbase64url(got.body.at("payload").as_string());
    const auto signature = unbase64url(got.body.at("signature").as_string());
    EXPECT_TRUE(vastu::CertificateSigner::verify(payload, signature, public_key));
    EXPECT_EQ(json::parse(payload), got.body.at("certificate"));
    payload[payload.size() / 2] ^= 0x01;
    EXPECT_FALSE(vastu::CertificateSigner::verify(payload, signature, public_key));

    // The listing shows its latest score.
    auto l = call(kGet, {"", owner, id});
    EXPECT_EQ(l.body.at("vastu").at("score").as_int64(), 100);
    EXPECT_EQ(l.body.at("vastu").at("certificate_id").as_string(), cert_id);
}

TEST_F(VastuServiceTest, ANewLayoutSupersedesTheOldCertificateWhichStillVerifies) {
    auto owner = person("agent");
    auto id = newListing(owner);
    auto first = call(kCertify, {layout("NE"), owner, id});
    ASSERT_EQ(first.status, 201);
    // Entrance S (avoided, 0): (20×0 + 15×100 + 10×100 + 5×100) / 50 = 60, grade C.
    auto second = call(kCertify, {layout("S"), owner, id});
    ASSERT_EQ(second.status, 201);
    EXPECT_EQ(second.body.at("certificate").at("score").as_int64(), 60);
    EXPECT_EQ(second.body.at("certificate").at("grade").as_string(), "C");
    const auto first_id =
        std::string(first.body.at("certificate").at("certificate_id").as_string());
    const auto second_id =
        std::string(second.body.at("certificate").at("certificate_id").as_string());
    auto old = call(kCertificate, {"", std::nullopt, first_id});
    EXPECT_EQ(old.body.at("status").as_string(), "superseded");
    EXPECT_EQ(old.body.at("superseded_by").as_string(), second_id);
    EXPECT_EQ(old.body.at("payload"), first.body.at("payload"));  // the signed bytes unchanged
    EXPECT_EQ(call(kCertificate, {"", std::nullopt, second_id}).body.at("status").as_string(),
              "current");
    EXPECT_EQ(call(kGet, {"", owner, id}).body.at("vastu").at("score").as_int64(), 60);
    auto events = rt::runBlocking(
        io(), pool_->query("SELECT data::text FROM restinu_outbox WHERE aggregate_id = $1 AND "
                           "type = 'property.vastu_certified' ORDER BY seq",
                           id));
    ASSERT_EQ(events.rows(), 2u);
    auto e = contracts::VastuCertified::parse(events.get(1, 0));
    EXPECT_EQ(e.certificate_id, second_id);
    EXPECT_EQ(e.superseded, first_id);
    EXPECT_EQ(e.score, 60);
    project();  // the read model's projection takes it in its stride
}

TEST_F(VastuServiceTest, OnlyTheOwnerOrAnAdminCertifiesAndBadLayoutsNameTheirFields) {
    auto owner = person("agent");
    auto id = newListing(owner);
    EXPECT_EQ(call(kCertify, {layout("NE"), std::nullopt, id}).status, 401);
    EXPECT_EQ(call(kCertify, {layout("NE"), person("agent"), id}).status, 403);
    EXPECT_EQ(call(kCertify, {layout("NE"), owner, rt::newUuidV7()}).status, 404);
    EXPECT_EQ(call(kCertify, {layout("NE"), person("admin"), id}).status, 201);
    auto bad = call(kCertify, {R"({"facing":"UP","elements":{"kitchen":"X"}})", owner, id});
    EXPECT_EQ(bad.status, 422);
    const auto text = json::serialize(bad.body);
    for (auto field : {"facing", "elements.kitchen", "elements.main_entrance"}) {
        EXPECT_NE(text.find(field), std::string::npos) << field << " in " << text;
    }
    EXPECT_EQ(call(kCertificate, {"", std::nullopt, rt::newUuidV7()}).status, 404);
    EXPECT_EQ(call(kCertificate, {"", std::nullopt, "not-a-uuid"}).status, 404);
}

// Without a signing key the service still runs; certification says why it cannot.
class VastuWithoutKeyTest : public PropertyTest {};

TEST_F(VastuWithoutKeyTest, CertifyingIs503AndThereIsNoPublicKey) {
    auto owner = person("agent");
    auto created = call(kCreate, {json::serialize(listing()), owner});
    ASSERT_EQ(created.status, 201);
    auto id = std::string(created.body.at("id").as_string());
    auto r = call(kCertify, {layout("NE"), owner, id});
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(json::serialize(r.body).find("vastu.signing_key"), std::string::npos);
    EXPECT_EQ(call(kPublicKey, {"", std::nullopt}).status, 404);
    EXPECT_TRUE(call(kGet, {"", owner, id}).body.at("vastu").is_null());
}

}  // namespace
}  // namespace restinu::property
