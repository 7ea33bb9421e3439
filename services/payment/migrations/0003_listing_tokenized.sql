-- Whether a listing is tokenized (its deed is on chain): the purchase saga's transfer_deed step
-- asks the blockchain service to move the deed only then (docs/payments.md). From the listing's
-- `token` in property events.
ALTER TABLE listing_view ADD COLUMN tokenized boolean NOT NULL DEFAULT false;
