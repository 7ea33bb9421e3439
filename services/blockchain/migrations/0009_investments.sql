-- A share purchase (docs/blockchain.md, "Buying shares"): the investor's saga, its whole state
-- in this row. The states, in order:
--   authorising  a payment hold is asked of the payment service (key investment:<id>:authorise)
--   transferring the hold is in; the transfer of the shares from the treasury is a chain
--                transaction (purpose shares.sell, reference the id) waiting for confirmation
--   capturing    the transfer is confirmed; the hold is captured (key investment:<id>:capture)
--   voiding      the transfer reverted (or the hold never answered): the hold is released
--   completed    shares delivered and paid for
--   failed       nothing delivered and nothing taken (`failure` says why)
-- Shares are reserved by every purchase that has not failed, so the treasury is never oversold.
CREATE TABLE chain_investments (
    id               uuid        PRIMARY KEY,
    investor_id      uuid        NOT NULL,
    property_id      uuid        NOT NULL REFERENCES chain_tokenizations (property_id),
    idempotency_key  text        NOT NULL,
    request_sha256   text        NOT NULL,
    shares           bigint      NOT NULL CHECK (shares > 0),
    price_minor      bigint      NOT NULL CHECK (price_minor > 0),
    amount_minor     bigint      NOT NULL CHECK (amount_minor > 0),
    currency         text        NOT NULL CHECK (currency = 'INR'),
    payment_method   text        NOT NULL,
    payee_id         uuid        NOT NULL,                 -- the listing's owner, paid on capture
    wallet           text        NOT NULL,                 -- 0x lower-case: where the shares go
    state            text        NOT NULL CHECK (state IN ('authorising', 'transferring',
                                 'capturing', 'voiding', 'completed', 'failed')),
    intent_id        text,
    tx_id            uuid        REFERENCES chain_transactions (id),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    failure          text,                             -- why it failed (failed only)
    last_error       text,                             -- the latest retried call's error
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (investor_id, idempotency_key)
);
CREATE INDEX chain_investments_due_idx ON chain_investments (next_attempt_at)
    WHERE state IN ('authorising', 'capturing', 'voiding');
CREATE INDEX chain_investments_investor_idx ON chain_investments (investor_id, created_at DESC);
CREATE INDEX chain_investments_property_idx ON chain_investments (property_id)
    WHERE state <> 'failed';
