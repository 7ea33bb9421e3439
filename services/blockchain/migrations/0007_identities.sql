-- The identity registry kept in step with KYC (docs/blockchain.md, "Identities"): a wallet whose
-- owner's KYC is approved is registered on chain, one whose owner's KYC is rejected is removed.
-- `registered` is what was last asked of the chain, by the transaction `tx_id`.
CREATE TABLE chain_identities (
    address     text        PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    user_id     uuid        NOT NULL,
    registered  boolean     NOT NULL,
    tx_id       uuid        NOT NULL REFERENCES chain_transactions (id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
