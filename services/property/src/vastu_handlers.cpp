#include "vastu_handlers.hpp"

#include <boost/json.hpp>

#include "cached_answers.hpp"
#include "listing_rules.hpp"
#include "restinu/rt/cache.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/events.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/router.hpp"
#include "restinu/rt/service.hpp"
#include "restinu/rt/write_context.hpp"
#include "user_roles.hpp"
#include "vastu.hpp"

namespace restinu::property {
namespace {

namespace json = boost::json;
using rt::ApiError;
namespace problems = rt::problems;

rt::Response jsonText(int status, std::string body) {
    return rt::Response::json(status, std::move(body));
}

}  // namespace

std::optional<vastu::CertificateSigner> readVastuSigner(rt::Config& c) {
    vastu::rules();  // a malformed rule table stops the service at start, not at a request
    auto text = c.str(std::string(vastu::CertificateSigner::kConfigKey), "");
    if (text.empty()) {
        rt::log::warn("property", "no vastu.signing_key: Vastu certificates cannot be issued", {});
        return std::nullopt;
    }
    std::string why;
    auto signer = vastu::CertificateSigner::fromText(text, &why);
    if (!signer) {
        c.reject(std::string(vastu::CertificateSigner::kConfigKey), why);
    }
    return signer;
}

VastuHandlers::VastuHandlers(rt::PgPool& primary, rt::Cache& cache,
                             std::optional<vastu::CertificateSigner> signer)
    : primary_(primary),
      listings_(primary),
      certificates_(primary),
      cache_(cache),
      signer_(std::move(signer)) {}

rt::Task<rt::Response> VastuHandlers::certify(rt::Request& req) {
    // Parse and validate the layout before anything else: a bad one names every field.
    const auto who = co_await currentRoles(primary_, *req.identity);
    const auto id = std::string(req.param("id"));
    auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    auto layout = vastu::layoutFromJson(body, errors);
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the layout has invalid fields", errors);
    }
    if (!signer_) {
        throw ApiError(rt::Problem{problems::kUnavailable,
                                   "Vastu certificates cannot be issued: no signing key is "
                                   "configured (vastu.signing_key)",
                                   {},
                                   {{"Retry-After", "60"}}});
    }
    // Rule: the listing exists and the caller may change it.
    if (!rt::isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such listing");
    }
    auto found = co_await listings_.find(id);
    if (!found) {
        throw ApiError(problems::kNotFound, "no such listing");
    }
    requireOwnerOrAdmin(*found, who, "certifies its layout");
    // Score (pure) and sign.
    const auto result = vastu::score(layout);
    vastu::CertificateBody cert_body;
    cert_body.certificate_id = rt::newUuidV7();
    cert_body.property_id = id;
    cert_body.facing = layout.facing;
    for (const auto& [element, zone] : layout.elements) {
        cert_body.elements[element] = zone;
    }
    cert_body.score = result.score;
    cert_body.grade = result.grade;
    cert_body.rules_version = result.rules_version;
    // Store: the certificate, the older one superseded, the listing's summary, in one go. It is
    // signed with the row locked, so that of two at once the one issued later is the one that
    // stays current (and the rights are those of the row as it is now).
    const auto ctx = rt::WriteContext::of(req, who.user_id);
    vastu::SignedCertificate signed_cert;
    auto after = co_await primary_.transaction([&](rt::PgConn& tx) -> rt::Task<StoredListing> {
        auto locked = co_await ListingStore::lock(tx, id);
        if (!locked) {
            throw ApiError(problems::kNotFound, "no such listing");
        }
        requireOwnerOrAdmin(*locked, who, "certifies its layout");
        cert_body.issued_at =
            std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        signed_cert = signer_->sign(cert_body);
        co_return co_await VastuStore::issue(tx, *locked, cert_body, signed_cert, ctx);
    });
    co_await cache_.invalidate(listingKey(id));
    // Render: the certificate as GET shows it, with the score's findings and remedies.
    auto out = json::parse(vastu::responseJson(signed_cert)).as_object();
    out["findings"] = vastu::toJson(result).at("findings");
    auto res = rt::jsonResponse(201, out);
    res.header("Location", "/api/v1/vastu/certificates/" + cert_body.certificate_id);
    res.header("ETag", etagOf(after.version));  // the listing's, which now carries the score
    co_return res;
}

rt::Task<rt::Response> VastuHandlers::certificate(rt::Request& req) {
    const auto id = std::string(req.param("id"));
    if (!rt::isUuid(id)) {
        throw ApiError(problems::kNotFound, "no such certificate");
    }
    auto found = co_await certificates_.find(id);
    if (!found) {
        throw ApiError(problems::kNotFound, "no such certificate");
    }
    auto res = jsonText(200, vastu::responseJson(found->signed_certificate, found->superseded_by));
    // A current certificate may become superseded: revalidate; the signed bytes never change.
    res.header("Cache-Control", "public, no-cache");
    co_return res;
}

rt::Task<rt::Response> VastuHandlers::publicKey(rt::Request& /*req*/) {
    if (!signer_) {
        throw ApiError(problems::kNotFound, "this service has no Vastu signing key configured");
    }
    auto res = jsonText(200, signer_->publicKeyJson());
    res.header("Cache-Control", "public, max-age=3600");
    co_return res;
}

void addVastuRoutes(rt::Shard& shard, rt::Cache& cache,
                    const std::optional<vastu::CertificateSigner>& signer) {
    auto& h = shard.keep(std::make_unique<VastuHandlers>(shard.pg(), cache, signer));
    auto& r = shard.router();
    r.post("/api/v1/properties/{id}/vastu", rt::Access::authenticated(),
           [&h](rt::Request& req) { return h.certify(req); });
    r.get("/api/v1/vastu/certificates/{id}", rt::Access::none(),
          [&h](rt::Request& req) { return h.certificate(req); });
    r.get("/api/v1/vastu/public-key", rt::Access::none(),
          [&h](rt::Request& req) { return h.publicKey(req); });
}

}  // namespace restinu::property
