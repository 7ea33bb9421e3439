#pragma once

#include <optional>
#include <string>

#include "listing_store.hpp"
#include "restinu/rt/task.hpp"
#include "restinu/rt/write_context.hpp"
#include "vastu_certificate.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
}  // namespace restinu::rt

/// Vastu certificates on the write model (migration 0008): the signed bytes and signature as
/// issued, the newest superseding the older ones of its listing, and the listing's own summary
/// of its latest (`properties.vastu`), written one version up with property.vastu_certified.
namespace restinu::property {

struct StoredCertificate {
    vastu::SignedCertificate signed_certificate;
    std::string superseded_by;  ///< empty while current
};

class VastuStore {
public:
    explicit VastuStore(rt::PgPool& reads) : reads_(reads) {}

    rt::Task<std::optional<StoredCertificate>> find(const std::string& id);

    /// Stores `cert` (its body `body`) for the locked listing `before`, supersedes the listing's
    /// current certificate if any, sets the listing's summary (one version up), and writes the
    /// event and audit row. Returns the listing after.
    static rt::Task<StoredListing> issue(rt::PgConn& tx, const StoredListing& before,
                                         const vastu::CertificateBody& body,
                                         const vastu::SignedCertificate& cert,
                                         const rt::WriteContext& ctx);

private:
    rt::PgPool& reads_;
};

}  // namespace restinu::property
