#include "key_ring.hpp"

#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {

KeyRing::KeyRing(std::string issuer, std::string audience, std::chrono::seconds ttl)
    : issuer_(std::move(issuer)), audience_(std::move(audience)), ttl_(ttl) {}

rt::Task<void> KeyRing::load(rt::PgPool& pool) {
    auto rows = co_await pool.query(
        "SELECT kid, private_pem, public_pem FROM signing_keys "
        "WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1::double "
        "precision) ORDER BY created_at DESC",
        std::to_string(ttl_.count()));
    if (rows.rows() == 0) {
        // Every shard of every instance may get here at first start: an advisory lock makes
        // exactly one of them create the key, so all of them sign and verify with the same.
        auto key = rt::generateSigningKey(rt::newUuidV7());
        co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await tx.query("SELECT pg_advisory_xact_lock(hashtext('restinu.signing_keys'))");
            co_await tx.query(
                "INSERT INTO signing_keys (kid, private_pem, public_pem) SELECT $1, $2, $3 "
                "WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL)",
                key.kid, key.private_pem, key.public_pem);
        });
        rows = co_await pool.query(
            "SELECT kid, private_pem, public_pem FROM signing_keys WHERE retired_at IS NULL "
            "ORDER BY created_at DESC");
    }
    std::vector<std::pair<std::string, std::string>> publics;
    for (std::size_t i = 0; i < rows.rows(); ++i) {
        publics.emplace_back(std::string(rows.get(i, 0)), std::string(rows.get(i, 2)));
    }
    rt::SigningKey newest{std::string(rows.get(0, 0)), std::string(rows.get(0, 1)),
                          std::string(rows.get(0, 2))};
    signer_ = std::make_unique<rt::TokenSigner>(newest, issuer_, audience_, ttl_);
    verifier_ = std::make_unique<rt::TokenVerifier>(issuer_, audience_, std::chrono::seconds(30));
    verifier_->setKeys(publics);
    jwks_ = rt::jwksJson(publics);
}

}  // namespace restinu::user
