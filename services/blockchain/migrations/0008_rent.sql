-- Rent paid into a tokenized listing's shares contract (docs/blockchain.md, "Rent"): one deposit
-- per listing and period, so asking twice for a period's rent deposits it once. The three chain
-- transactions (mint the rupee stand-in to the treasury, approve the shares contract, deposit)
-- are sent in nonce order by the operator.
CREATE TABLE chain_rent_payments (
    property_id     uuid        NOT NULL,
    period          text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    requested_by    uuid        NOT NULL,
    deposit_tx_id   uuid        NOT NULL REFERENCES chain_transactions (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (property_id, period)
);
