#pragma once

#include <string>

#include "restinu/rt/http.hpp"
#include "restinu/rt/task.hpp"

namespace restinu::rt {
class PgConn;
class PgPool;
struct Event;
}  // namespace restinu::rt

/// Tokenizing a listing (docs/blockchain.md, "Tokenize"):
///
///   POST /api/v1/properties/{id}/tokenize (admin)
///     metadata → the store (its CID) ─┐
///     one database transaction: the deed's mint and the shares contract's deployment, both
///     signed by the operator (two nonces), and the tokenization `pending`   ──▶ 202
///   chain.tx.confirmed (deed.mint) + chain.tx.confirmed (shares.deploy)
///     ──▶ `listed`: the shares contract followed by the indexer, property.tokenized emitted
///   chain.tx.failed (either) ──▶ `failed` with the reason
namespace restinu::blockchain {

class TxManager;
class MetadataStore;

class Tokenizer {
public:
    /// `tx`: null when no operator key is configured (then tokenizing answers 503).
    Tokenizer(rt::PgPool& pool, TxManager* tx, MetadataStore& metadata, std::string app_url)
        : pool_(pool), tx_(tx), metadata_(metadata), app_url_(std::move(app_url)) {}

    rt::Task<rt::Response> tokenize(rt::Request& req);
    rt::Task<rt::Response> show(rt::Request& req);

    /// The flow's consumer of the service's own chain_tx events.
    static rt::Task<void> applyChainTx(rt::PgConn& tx, const rt::Event& event);

private:
    rt::PgPool& pool_;
    TxManager* tx_;
    MetadataStore& metadata_;
    std::string app_url_;
};

}  // namespace restinu::blockchain
