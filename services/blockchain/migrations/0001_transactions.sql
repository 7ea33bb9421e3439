-- The service's own transactions (docs/blockchain.md, "Sending transactions"). A nonce is taken
-- from chain_signers in the same database transaction that stores the signed transaction, and
-- nothing is sent before that commits: after a crash at any point the row is there to be sent
-- again (the same bytes, so the same hash), and no nonce is ever skipped or used twice.
CREATE TABLE chain_signers (
    address     text   PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    chain_id    bigint NOT NULL,
    next_nonce  bigint NOT NULL CHECK (next_nonce >= 0)
);

-- One row per (signer, nonce). `raw` and `hash` are the latest signed version; `hashes` every
-- version sent (a replacement keeps the nonce and raises the fee, and any one of them may be the
-- one mined). Amounts in wei as numeric(78,0) (up to 2^256 - 1), never a float.
CREATE TABLE chain_transactions (
    id                uuid        PRIMARY KEY,
    signer            text        NOT NULL REFERENCES chain_signers (address),
    nonce             bigint      NOT NULL,
    purpose           text        NOT NULL,
    reference         text        NOT NULL,   -- the business key: one transaction per purpose and reference
    to_address        text,                   -- none: a contract creation
    value_wei         numeric(78,0) NOT NULL,
    data              text        NOT NULL,   -- 0x hex
    gas_limit         bigint      NOT NULL,
    max_fee_wei       numeric(78,0) NOT NULL,
    priority_fee_wei  numeric(78,0) NOT NULL,
    raw               text        NOT NULL,
    hash              text        NOT NULL,
    hashes            text[]      NOT NULL,
    state             text        NOT NULL CHECK (state IN ('signed', 'sent', 'mined', 'confirmed', 'failed')),
    replacements      integer     NOT NULL DEFAULT 0,
    last_sent_at      timestamptz,
    mined_hash        text,
    mined_block       bigint,
    mined_block_hash  text,
    receipt_status    integer,
    gas_used          bigint,
    contract_address  text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (signer, nonce),
    UNIQUE (purpose, reference)
);
-- What the sender still has to watch, in nonce order.
CREATE INDEX chain_transactions_open_idx ON chain_transactions (signer, nonce)
    WHERE state IN ('signed', 'sent', 'mined');
