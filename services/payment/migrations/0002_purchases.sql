-- Offers and the purchase saga (docs/payments.md), with the two read models they need from
-- other services' events: listings (property.*) and buyers' KYC (user.kyc.*).
CREATE TABLE listing_view (
    id          uuid        PRIMARY KEY,
    owner_id    uuid        NOT NULL,
    status      text        NOT NULL,
    price_minor bigint      NOT NULL,
    currency    text        NOT NULL,
    title       text        NOT NULL,
    address     text        NOT NULL,
    version     integer     NOT NULL
);

CREATE TABLE kyc_view (
    user_id     uuid        PRIMARY KEY,
    status      text        NOT NULL CHECK (status IN ('approved', 'rejected')),
    decided_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE offers (
    id             uuid        PRIMARY KEY,
    listing_id     uuid        NOT NULL,
    listing_version integer    NOT NULL,             -- as the buyer saw it
    buyer_id       uuid        NOT NULL,
    seller_id      uuid        NOT NULL,             -- the listing's owner when offered
    amount         bigint      NOT NULL CHECK (amount > 0),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_method text        NOT NULL,
    status         text        NOT NULL CHECK (status IN
                   ('pending', 'accepted', 'rejected', 'lapsed', 'withdrawn')),
    expires_at     timestamptz NOT NULL,
    decided_by     uuid,
    decided_at     timestamptz,
    purchase_id    uuid,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offers_listing_idx ON offers (listing_id, created_at);
CREATE INDEX offers_buyer_idx ON offers (buyer_id, created_at);
CREATE INDEX offers_pending_expiry_idx ON offers (expires_at) WHERE status = 'pending';

-- A purchase: the saga's whole state. `step` is the step to run next (running) or to
-- compensate next (compensating); the orchestrator that holds `lease_until` works on it.
CREATE TABLE purchases (
    id               uuid        PRIMARY KEY,
    offer_id         uuid        NOT NULL UNIQUE REFERENCES offers (id),
    listing_id       uuid        NOT NULL,
    listing_version  integer     NOT NULL,
    buyer_id         uuid        NOT NULL,
    seller_id        uuid        NOT NULL,
    price            bigint      NOT NULL CHECK (price > 0),
    charge           bigint      NOT NULL CHECK (charge > 0 AND charge <= price),
    currency         text        NOT NULL,
    payment_method   text        NOT NULL,
    state            text        NOT NULL CHECK (state IN
                     ('running', 'compensating', 'completed', 'failed')),
    step             text,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    lease_owner      text,                            -- the orchestrator run holding it
    failure_reason   text,
    intent_id        text,
    agreement_pdf    bytea,
    agreement_sha256 text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX purchases_due_idx ON purchases (next_attempt_at)
    WHERE state IN ('running', 'compensating');
CREATE INDEX purchases_listing_idx ON purchases (listing_id);
-- At most one completed purchase per listing, whatever any code path does.
CREATE UNIQUE INDEX purchases_one_completed_idx ON purchases (listing_id)
    WHERE state = 'completed';

CREATE TABLE purchase_steps (
    purchase_id  uuid        NOT NULL REFERENCES purchases (id),
    step         text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('succeeded', 'failed', 'compensated')),
    attempts     integer     NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    error        text,
    PRIMARY KEY (purchase_id, step)
);
