-- The double-entry ledger, payment intents and the idempotency keys of every mutating call
-- (docs/payments.md). Money is bigint minor units with an ISO 4217 code; nothing is a float.
CREATE TABLE ledger_accounts (
    id         text        PRIMARY KEY,        -- "escrow", "buyer_funds:<user>", ...
    kind       text        NOT NULL CHECK (kind IN
               ('buyer_funds', 'escrow', 'seller_payable', 'platform_fees', 'provider_clearing')),
    owner_id   uuid,                           -- the user of buyer_funds / seller_payable
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE journal_entries (
    id          bigserial   PRIMARY KEY,
    intent_id   text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('authorise', 'void', 'capture', 'refund')),
    -- One entry per operation of an intent: the same operation can never post twice.
    operation   text        NOT NULL UNIQUE,
    memo        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_intent_idx ON journal_entries (intent_id);

CREATE TABLE postings (
    entry_id   bigint      NOT NULL REFERENCES journal_entries (id),
    account_id text        NOT NULL REFERENCES ledger_accounts (id),
    amount     bigint      NOT NULL CHECK (amount <> 0),   -- debit > 0, credit < 0
    currency   text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX postings_entry_idx ON postings (entry_id);
CREATE INDEX postings_account_idx ON postings (account_id, currency);

-- Every entry sums to zero in each currency, checked when its transaction commits: an
-- unbalanced entry cannot be written by any code path, ours or a hand-typed one.
CREATE FUNCTION restinu_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.entry_id
               GROUP BY currency HAVING sum(amount) <> 0) THEN
        RAISE EXCEPTION 'journal entry % does not balance', NEW.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION restinu_check_entry_balanced();
-- Entries and postings are history: never changed, never removed.
CREATE FUNCTION restinu_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only (%)', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION restinu_ledger_append_only();
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION restinu_ledger_append_only();

-- A payment intent (Stripe's shape): authorising → authorised → captured | canceled;
-- declined when the provider refused. Refunds count in amount_refunded.
CREATE TABLE payment_intents (
    id                 text        PRIMARY KEY,          -- pi_<hex>
    purchase_id        uuid,
    buyer_id           uuid        NOT NULL,
    seller_id          uuid        NOT NULL,
    amount             bigint      NOT NULL CHECK (amount > 0),
    currency           text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_method     text        NOT NULL,
    status             text        NOT NULL CHECK (status IN
                       ('authorising', 'authorised', 'declined', 'canceled', 'captured')),
    provider_intent_id text        UNIQUE,
    amount_captured    bigint      NOT NULL DEFAULT 0 CHECK (amount_captured BETWEEN 0 AND amount),
    amount_refunded    bigint      NOT NULL DEFAULT 0
                       CHECK (amount_refunded BETWEEN 0 AND amount_captured),
    fee                bigint      NOT NULL DEFAULT 0 CHECK (fee >= 0),
    decline_code       text,
    provider_status    text,                             -- as the last webhook said
    provider_event_at  bigint,                           -- that event's `created` (unix s)
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_intents_purchase_idx ON payment_intents (purchase_id);

-- Idempotency keys of mutating calls: the request's fingerprint and, once it finished, its
-- result. A key without a result is an operation begun and not known to have finished: a
-- retry re-drives it (the provider gets the same Idempotency-Key), never starts another.
CREATE TABLE idempotency_keys (
    key          text        PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
    operation    text        NOT NULL,
    fingerprint  text        NOT NULL,
    intent_id    text,
    result       text,                                   -- JSON, once finished
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- Provider webhook events already applied: a replayed id changes nothing.
CREATE TABLE provider_events (
    id          text        PRIMARY KEY,
    type        text        NOT NULL,
    intent_id   text,
    created     bigint      NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
