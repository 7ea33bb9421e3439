#include "wallet_handlers.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <initializer_list>
#include <stdexcept>

#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "restinu/contracts/problems.hpp"
#include "restinu/rt/config.hpp"
#include "restinu/rt/json.hpp"
#include "restinu/rt/log.hpp"
#include "restinu/rt/pg.hpp"
#include "restinu/rt/problem.hpp"
#include "restinu/rt/router.hpp"
#include "restinu/rt/service.hpp"
#include "siwe.hpp"
#include "wallet_store.hpp"

namespace restinu::blockchain {
namespace {

namespace json = boost::json;
namespace problems = rt::problems;
namespace cp = contracts::problems;
using rt::ApiError;

constexpr std::string_view kStatement = "Link this Ethereum account to your REST-iN-U account.";
constexpr std::size_t kNonceLength = 20;  // ~119 bits; EIP-4361 asks for 8 or more
constexpr std::size_t kMaxMessage = 4096;

std::string newNonce() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out(kNonceLength, '\0');
    for (auto& ch : out) {
        ch = kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
    }
    return out;
}

std::string checksummed(const std::string& lower) {
    auto a = eth::Address::parse(lower);
    return a ? a->checksummed() : lower;
}

json::object render(const Wallet& w) {
    return {{"address", checksummed(w.address)}, {"kind", w.kind}, {"created_at", w.created_at}};
}

void refuseUnknownFields(const json::object& body, std::initializer_list<std::string_view> known,
                         std::vector<rt::FieldError>& errors) {
    for (const auto& [k, _] : body) {
        if (std::find(known.begin(), known.end(), std::string_view(k)) == known.end()) {
            errors.push_back({std::string(k), "unknown field"});
        }
    }
}

std::optional<std::string> stringField(const json::object& body, std::string_view key) {
    const auto* v = body.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->as_string());
}

[[noreturn]] void walletExists(const Wallet& w) {
    throw ApiError(cp::kWalletExists, "this account already has a " + w.kind + " wallet (" +
                                          checksummed(w.address) + "): an account has one wallet");
}

// A sample of our challenge with `domain` and `uri`: why it does not read back, if it does not.
std::optional<std::string> probe(const std::string& domain, const std::string& uri) {
    siwe::Message m;
    m.domain = domain;
    m.uri = uri;
    m.statement = std::string(kStatement);
    m.nonce = "probe0000";
    m.issued_at = "2026-01-01T00:00:00Z";
    std::string why;
    auto back = siwe::parse(siwe::format(m), &why);
    if (!back) {
        return why;
    }
    if (*back != m) {
        return "does not read back as written";
    }
    return std::nullopt;
}

}  // namespace

WalletSettings readWalletSettings(rt::Config& c) {
    WalletSettings s;
    s.chain_id = c.integer("chain.chain_id", 31337, 1, 1LL << 52);
    s.domain = c.str("chain.wallets.domain", "localhost:8080");
    s.uri = c.str("chain.wallets.uri", "http://localhost:8080");
    if (auto why = probe(s.domain, "http://localhost")) {
        c.reject("chain.wallets.domain",
                 "must be a host and optional port (an RFC 3986 "
                 "authority, no scheme): " +
                     *why);
    }
    if (auto why = probe("localhost", s.uri)) {
        c.reject("chain.wallets.uri", "must be an RFC 3986 URI: " + *why);
    }
    const auto ttl = c.duration("chain.wallets.challenge_ttl", std::chrono::minutes(10));
    if (ttl < std::chrono::seconds(1) || ttl > std::chrono::hours(1)) {
        c.reject("chain.wallets.challenge_ttl", "must be from 1s to 1h");
    }
    s.challenge_ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl);
    const auto key_text = c.str("chain.wallets.seal_key", "");
    if (key_text.empty()) {
        rt::log::warn("blockchain",
                      "no chain.wallets.seal_key: custodial wallets cannot be created", {});
    } else if (auto key = decodeSealKey(key_text)) {
        s.seal_key = std::move(*key);
    } else {
        c.reject("chain.wallets.seal_key", "must be base64 of 32 bytes (openssl rand -base64 32)");
    }
    return s;
}

rt::Task<rt::Response> WalletHandlers::challenge(rt::Request& req) {
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    refuseUnknownFields(body, {"address"}, errors);
    const auto text = stringField(body, "address");
    const auto address = text ? eth::Address::parse(*text) : std::nullopt;
    if (!address) {
        errors.push_back({"address",
                          "must be 0x and 40 hex digits (in mixed case, its EIP-55 "
                          "checksum)"});
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the challenge request has invalid fields", errors);
    }
    const std::string user_id = req.identity->user_id;
    const auto existing = co_await WalletStore::find(pool_, user_id);
    if (existing) {
        walletExists(*existing);
    }
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    siwe::Message m;
    m.domain = settings_.domain;
    m.address = *address;
    m.statement = std::string(kStatement);
    m.uri = settings_.uri;
    m.chain_id = static_cast<std::uint64_t>(settings_.chain_id);
    m.nonce = newNonce();
    m.issued_at = siwe::rfc3339(now);
    m.expiration_time = siwe::rfc3339(now + settings_.challenge_ttl);
    const WalletChallenge c{m.nonce,         user_id,     address->lower(),
                            siwe::format(m), m.issued_at, *m.expiration_time};
    co_await WalletStore::addChallenge(pool_, c, kMaxOpenChallenges);
    co_return rt::jsonResponse(
        201, json::object{{"message", c.message}, {"nonce", c.nonce}, {"expires_at", c.expires_at}})
        .header("Cache-Control", "no-store");
}

rt::Task<rt::Response> WalletHandlers::link(rt::Request& req) {
    // Parse: both fields, every error named.
    const auto body = rt::parseJsonObject(req);
    std::vector<rt::FieldError> errors;
    refuseUnknownFields(body, {"message", "signature"}, errors);
    const auto message = stringField(body, "message");
    if (!message || message->empty() || message->size() > kMaxMessage) {
        errors.push_back({"message", "must be the challenge's message, as issued"});
    }
    const auto signature_text = stringField(body, "signature");
    std::optional<eth::Signature> signature;
    if (signature_text && signature_text->size() == 132 && signature_text->starts_with("0x")) {
        if (auto raw = eth::unhex(*signature_text)) {
            signature = eth::Signature::fromRsv(*raw);
        }
    }
    if (!signature) {
        errors.push_back(
            {"signature", "must be 0x and 130 hex digits: r, s and v (personal_sign)"});
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the link request has invalid fields", errors);
    }
    std::string why;
    const auto m = siwe::parse(*message, &why);
    if (!m) {
        throw ApiError(problems::kValidation, "the message is not a Sign-In with Ethereum message",
                       {{"message", why}});
    }
    // Rule: the message is for us.
    if (!m->scheme.empty() || m->domain != settings_.domain) {
        errors.push_back({"message", "its domain must be " + settings_.domain});
    }
    if (m->uri != settings_.uri) {
        errors.push_back({"message", "its URI must be " + settings_.uri});
    }
    if (m->chain_id != static_cast<std::uint64_t>(settings_.chain_id)) {
        errors.push_back({"message", "its chain id must be " + std::to_string(settings_.chain_id)});
    }
    if (!errors.empty()) {
        throw ApiError(problems::kValidation, "the message is not one of this service's", errors);
    }
    // Rule: it is an open challenge issued to this caller, word for word, signed by its address.
    const std::string user_id = req.identity->user_id;
    const auto existing = co_await WalletStore::find(pool_, user_id);
    if (existing) {
        walletExists(*existing);
    }
    const auto stored = co_await WalletStore::challenge(pool_, m->nonce, user_id);
    if (!stored) {
        throw ApiError(cp::kWalletChallengeInvalid,
                       "no challenge with this nonce was issued to this account: ask for one at "
                       "POST /api/v1/wallets/challenge");
    }
    if (stored->message != *message) {
        throw ApiError(cp::kWalletChallengeInvalid,
                       "the message differs from the challenge issued with its nonce: sign it "
                       "exactly as issued");
    }
    if (stored->used) {
        throw ApiError(cp::kWalletChallengeInvalid, "this challenge was already used");
    }
    if (stored->expired) {
        throw ApiError(
            cp::kWalletChallengeExpired,
            "the challenge expired at " + m->expiration_time.value_or("?") + ": ask for a new one");
    }
    const auto signer = eth::recoverSigner(eth::personalMessageDigest(*message), *signature);
    if (!signer || *signer != m->address) {
        throw ApiError(cp::kWalletSignatureInvalid,
                       "the signature is not " + m->address.checksummed() +
                           "'s personal_sign signature of this message");
    }
    // Store: the challenge used and the wallet created, or neither.
    const Wallet wallet{user_id, m->address.lower(), "linked", std::nullopt, ""};
    const std::string nonce = m->nonce;
    auto write = [&](rt::PgConn& tx) -> rt::Task<Wallet> {
        const bool used = co_await WalletStore::useChallenge(tx, nonce, user_id);
        if (!used) {
            throw ApiError(cp::kWalletChallengeInvalid,
                           "this challenge was used or expired meanwhile: ask for a new one");
        }
        auto made = co_await WalletStore::create(tx, wallet);
        if (!made) {
            throw ApiError(
                cp::kWalletExists,
                "the address " + checksummed(wallet.address) +
                    " is another account's wallet (or this account got a wallet meanwhile)");
        }
        co_return std::move(*made);
    };
    const auto created = co_await pool_.transaction(write);
    rt::log::info("blockchain", "wallet linked",
                  {{"user_id", user_id}, {"address", created.address}});
    co_return rt::jsonResponse(201, render(created));
}

rt::Task<rt::Response> WalletHandlers::custodial(rt::Request& req) {
    if (settings_.seal_key.empty()) {
        throw ApiError(rt::Problem{problems::kUnavailable,
                                   "custodial wallets cannot be created: no seal key is "
                                   "configured (chain.wallets.seal_key)",
                                   {},
                                   {{"Retry-After", "60"}}});
    }
    const std::string user_id = req.identity->user_id;
    const auto existing = co_await WalletStore::find(pool_, user_id);
    if (existing) {
        walletExists(*existing);
    }
    const auto key = eth::PrivateKey::generate();
    const auto address = key.address().lower();
    const Wallet wallet{user_id, address, "custodial",
                        sealCustodialKey(settings_.seal_key, user_id, address, key), ""};
    auto write = [&](rt::PgConn& tx) -> rt::Task<std::optional<Wallet>> {
        co_return co_await WalletStore::create(tx, wallet);
    };
    const auto created = co_await pool_.transaction(write);
    if (!created) {  // a concurrent request of the same user won
        throw ApiError(cp::kWalletExists, "this account already has a wallet");
    }
    rt::log::info("blockchain", "custodial wallet created",
                  {{"user_id", user_id}, {"address", created->address}});
    co_return rt::jsonResponse(201, render(*created));
}

rt::Task<rt::Response> WalletHandlers::mine(rt::Request& req) {
    const auto w = co_await WalletStore::find(pool_, req.identity->user_id);
    if (!w) {
        throw ApiError(problems::kNotFound,
                       "this account has no wallet: link one or create a "
                       "custodial one");
    }
    co_return rt::jsonResponse(200, render(*w)).header("Cache-Control", "no-store");
}

void addWalletRoutes(rt::Shard& shard, const WalletSettings& settings) {
    auto& h = shard.keep(std::make_unique<WalletHandlers>(shard.pg(), settings));
    auto& r = shard.router();
    const auto signed_in = rt::Access::authenticated();
    using H = WalletHandlers;
    auto bind = [&h](rt::Task<rt::Response> (H::*fn)(rt::Request&)) {
        return [&h, fn](rt::Request& q) { return (h.*fn)(q); };
    };
    r.post("/api/v1/wallets/challenge", signed_in, bind(&H::challenge));
    r.post("/api/v1/wallets/link", signed_in, bind(&H::link));
    r.post("/api/v1/wallets/custodial", signed_in, bind(&H::custodial));
    r.get("/api/v1/users/me/wallet", signed_in, bind(&H::mine));
}

}  // namespace restinu::blockchain
