-- What the payment service's purchase saga asked of a listing (docs/payments.md): each
-- (purchase, action) once, so a retried step returns its first result and changes nothing.
ALTER TABLE properties ADD COLUMN reserved_by uuid;  -- the purchase holding the reservation
CREATE TABLE purchase_steps (
    purchase_id    uuid        NOT NULL,
    action         text        NOT NULL CHECK (action IN
                   ('reserve', 'release', 'transfer', 'revert_transfer', 'mark_sold')),
    listing_id     uuid        NOT NULL REFERENCES properties (id),
    previous_owner uuid,                       -- transfer: whom revert_transfer gives it back to
    done_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (purchase_id, action)
);
