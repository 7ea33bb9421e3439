-- A listing tokenized (docs/blockchain.md, "Tokenize"): its deed minted on the platform's deed
-- contract and its own shares contract deployed, both as chain transactions sent from the
-- operator, the listing `listed` once both are confirmed. One per listing.
CREATE TABLE chain_tokenizations (
    property_id      uuid        PRIMARY KEY,
    requested_by     uuid        NOT NULL,
    total_shares     bigint      NOT NULL CHECK (total_shares > 0),
    price_minor      bigint      NOT NULL CHECK (price_minor > 0),   -- per share
    currency         text        NOT NULL CHECK (currency = 'INR'),
    symbol           text        NOT NULL,
    metadata_cid     text        NOT NULL,
    token_id         numeric(78,0) NOT NULL,                         -- the deed's ERC-721 id
    deed_tx_id       uuid        NOT NULL REFERENCES chain_transactions (id),
    shares_tx_id     uuid        NOT NULL REFERENCES chain_transactions (id),
    deed_minted      boolean     NOT NULL DEFAULT false,
    shares_address   text,
    state            text        NOT NULL CHECK (state IN ('pending', 'listed', 'failed')),
    failure          text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    listed_at        timestamptz
);
