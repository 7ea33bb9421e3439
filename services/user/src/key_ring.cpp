#include "key_ring.hpp"

#include "restinu/rt/events.hpp"
#include "restinu/rt/pg.hpp"

namespace restinu::user {

KeyRing::KeyRing(std::string issuer, std::string audience, std::chrono::seconds ttl,
                 const KeyVault& vault)
    : issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      ttl_(ttl),
      vault_(vault),
      verifier_(issuer_, audience_, std::chrono::seconds(30)) {}

rt::Task<void> KeyRing::load(rt::PgPool& pool) {
    const std::string sql =
        "SELECT kid, private_pem, public_pem, activates_at <= now() FROM signing_keys "
        "WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1::double "
        "precision) ORDER BY activates_at DESC, created_at DESC";
    const std::string ttl_text = std::to_string(ttl_.count());
    auto rows = co_await pool.query(sql, ttl_text);
    auto active = [&rows]() -> std::optional<std::size_t> {
        for (std::size_t i = 0; i < rows.rows(); ++i) {
            if (rows.get(i, 3) == "t") {
                return i;
            }
        }
        return std::nullopt;
    };
    if (!active()) {
        // Every shard of every instance may get here at first start: an advisory lock makes
        // exactly one of them create the key, so all of them sign and verify with the same.
        auto key = rt::generateSigningKey(rt::newUuidV7());
        auto sealed = vault_.seal(key.private_pem, key.kid);
        co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
            co_await tx.query("SELECT pg_advisory_xact_lock(hashtext('restinu.signing_keys'))");
            co_await tx.query(
                "INSERT INTO signing_keys (kid, private_pem, public_pem) SELECT $1, $2, $3 "
                "WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE activates_at <= now() "
                "AND (retired_at IS NULL OR retired_at > now()))",
                key.kid, sealed, key.public_pem);
        });
        rows = co_await pool.query(sql, ttl_text);
    }
    auto signing = active();
    if (!signing) {
        throw std::runtime_error("no active signing key after creating one");
    }
    // Every private key opened; one stored in clear (before keys were sealed) or under a
    // previous key-encryption key is sealed again under the current one.
    std::string signing_pem;
    for (std::size_t i = 0; i < rows.rows(); ++i) {
        std::string kid(rows.get(i, 0));
        std::string stored(rows.get(i, 1));
        std::string pem;
        bool reseal = false;
        if (!KeyVault::isSealed(stored)) {
            pem = stored;
            reseal = true;
        } else if (auto opened = vault_.open(stored, kid)) {
            pem = std::move(opened->plain);
            reseal = !opened->with_current;
        } else {
            throw std::runtime_error("signing key " + kid +
                                     " does not open with auth.key_encryption_key or any of "
                                     "auth.previous_key_encryption_keys");
        }
        if (reseal) {
            co_await pool.query(
                "UPDATE signing_keys SET private_pem = $2 WHERE kid = $1 AND private_pem = $3", kid,
                vault_.seal(pem, kid), stored);
        }
        if (i == *signing) {
            signing_pem = std::move(pem);
        }
    }
    std::vector<std::pair<std::string, std::string>> publics;
    for (std::size_t i = 0; i < rows.rows(); ++i) {
        publics.emplace_back(std::string(rows.get(i, 0)), std::string(rows.get(i, 2)));
    }
    rt::SigningKey newest{std::string(rows.get(*signing, 0)), std::move(signing_pem),
                          std::string(rows.get(*signing, 2))};
    if (!signer_ || signer_->kid() != newest.kid) {
        signer_ = std::make_unique<rt::TokenSigner>(newest, issuer_, audience_, ttl_);
    }
    verifier_.setKeys(publics);
    jwks_ = rt::jwksJson(publics);
}

rt::Task<std::string> rotateSigningKey(rt::PgPool& pool, const KeyVault& vault,
                                       std::chrono::seconds activate_in) {
    auto key = rt::generateSigningKey(rt::newUuidV7());
    auto sealed = vault.seal(key.private_pem, key.kid);
    co_await pool.transaction([&](rt::PgConn& tx) -> rt::Task<void> {
        co_await tx.query("SELECT pg_advisory_xact_lock(hashtext('restinu.signing_keys'))");
        const auto secs = static_cast<double>(activate_in.count());
        co_await tx.query(
            "UPDATE signing_keys SET retired_at = now() + make_interval(secs => $1) "
            "WHERE retired_at IS NULL",
            secs);
        co_await tx.query(
            "INSERT INTO signing_keys (kid, private_pem, public_pem, activates_at) "
            "VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
            key.kid, sealed, key.public_pem, secs);
    });
    co_return key.kid;
}

}  // namespace restinu::user
