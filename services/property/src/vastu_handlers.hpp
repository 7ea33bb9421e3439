#pragma once

#include <memory>
#include <optional>

#include "listing_store.hpp"
#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"
#include "vastu_certificate.hpp"
#include "vastu_store.hpp"

namespace restinu::rt {
class Cache;
class Config;
class PgPool;
class Shard;
}  // namespace restinu::rt

/// Vastu certification of a listing (docs/vastu.md): the owner or an admin submits the layout,
/// the rule table scores it, and a certificate signed with the service's Ed25519 key is issued;
/// anyone reads a certificate and the public key to verify it offline
/// (docs/vastu-certificates.md).
namespace restinu::property {

/// `vastu.signing_key` (32-byte seed, base64 or hex); absent: certification answers 503.
std::optional<vastu::CertificateSigner> readVastuSigner(rt::Config& c);

class VastuHandlers {
public:
    VastuHandlers(rt::PgPool& primary, rt::Cache& cache,
                  std::optional<vastu::CertificateSigner> signer);

    rt::Task<rt::Response> certify(rt::Request& req);      // POST /api/v1/properties/{id}/vastu
    rt::Task<rt::Response> certificate(rt::Request& req);  // GET /api/v1/vastu/certificates/{id}
    rt::Task<rt::Response> publicKey(rt::Request& req);    // GET /api/v1/vastu/public-key

private:
    rt::PgPool& primary_;
    ListingStore listings_;
    VastuStore certificates_;
    rt::Cache& cache_;
    std::optional<vastu::CertificateSigner> signer_;
};

/// Wires the Vastu routes on one shard.
void addVastuRoutes(rt::Shard& shard, rt::Cache& cache,
                    const std::optional<vastu::CertificateSigner>& signer);

}  // namespace restinu::property
