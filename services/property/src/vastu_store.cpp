#include "vastu_store.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <ctime>

#include "restinu/contracts/events.hpp"
#include "restinu/rt/digest.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;

std::string iso(std::chrono::sys_seconds t) {
    const std::time_t secs = t.time_since_epoch().count();
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// The signature as the database's hex text ("ab01...") back to its bytes.
std::string bytesOfHex(std::string_view hex) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out(hex.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
    }
    return out;
}

}  // namespace

rt::Task<std::optional<StoredCertificate>> VastuStore::find(const std::string& id) {
    auto r = co_await reads_.query(
        "SELECT payload, encode(signature, 'hex') AS signature, key_id, "
        "coalesce(superseded_by::text, '') AS superseded_by FROM vastu_certificates "
        "WHERE id = $1::uuid",
        id);
    if (r.rows() == 0) {
        co_return std::nullopt;
    }
    StoredCertificate c;
    c.signed_certificate.payload = std::string(r.get(0, 0));
    c.signed_certificate.signature = bytesOfHex(r.get(0, 1));
    c.signed_certificate.key_id = std::string(r.get(0, 2));
    c.superseded_by = std::string(r.get(0, 3));
    co_return c;
}

rt::Task<StoredListing> VastuStore::issue(rt::PgConn& tx, const StoredListing& before,
                                          const vastu::CertificateBody& body,
                                          const vastu::SignedCertificate& cert,
                                          const rt::WriteContext& ctx) {
    const auto issued_at = iso(body.issued_at);
    co_await tx.query(
        "INSERT INTO vastu_certificates (id, property_id, score, grade, rules_version, key_id, "
        "payload, signature, issued_by, issued_at) VALUES ($1::uuid, $2::uuid, $3::int, $4, $5, "
        "$6, $7, decode($8, 'hex'), $9::uuid, $10::timestamptz)",
        body.certificate_id, before.id, body.score, body.grade, body.rules_version, cert.key_id,
        cert.payload, rt::toHex(cert.signature), ctx.actor, issued_at);
    auto old = co_await tx.query(
        "UPDATE vastu_certificates SET superseded_by = $2::uuid WHERE property_id = $1::uuid "
        "AND superseded_by IS NULL AND id <> $2::uuid RETURNING id::text",
        before.id, body.certificate_id);
    const json::object summary{{"certificate_id", body.certificate_id},
                               {"score", body.score},
                               {"grade", body.grade},
                               {"rules_version", body.rules_version},
                               {"issued_at", issued_at}};
    const std::string sql =
        "UPDATE properties p SET vastu = $2::jsonb, version = version + 1, updated_at = now() "
        "WHERE id = $1::uuid RETURNING " +
        std::string(ListingStore::columns());
    auto r = co_await tx.query(sql, before.id, json::serialize(summary));
    auto after = ListingStore::read(r, 0);
    contracts::VastuCertified event;
    event.listing_id = before.id;
    event.certificate_id = body.certificate_id;
    event.score = body.score;
    event.grade = body.grade;
    event.superseded = old.rows() > 0 ? std::string(old.get(0, 0)) : std::string{};
    event.version = after.version;
    auto e = rt::makeEvent(std::string(contracts::VastuCertified::kType),
                           std::string(contracts::kPropertyAggregate), before.id, event.data(),
                           ctx.traceparent);
    co_await rt::enqueueEvent(tx, e);
    co_await rt::audit(tx, ctx.actor, "property.vastu_certify", "property", before.id,
                       ctx.request_id);
    co_return after;
}

}  // namespace restinu::property
