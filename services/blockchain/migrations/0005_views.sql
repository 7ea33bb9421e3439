-- What the blockchain service keeps of other services' events (docs/events.md): the listings
-- (for a deed's metadata and who owns a listing) and the users' KYC decisions (only verified
-- people's wallets go into the identity registry).
CREATE TABLE chain_listing_view (
    id             uuid    PRIMARY KEY,
    owner_id       uuid    NOT NULL,
    status         text    NOT NULL,
    title          text    NOT NULL,
    description    text    NOT NULL,
    property_type  text    NOT NULL,
    city           text    NOT NULL,
    state          text    NOT NULL,
    country        text    NOT NULL,
    bedrooms       integer NOT NULL,
    area_sqft      integer NOT NULL,
    images         jsonb   NOT NULL DEFAULT '[]',
    version        integer NOT NULL
);

CREATE TABLE chain_kyc_view (
    user_id     uuid        PRIMARY KEY,
    status      text        NOT NULL CHECK (status IN ('approved', 'rejected')),
    decided_at  timestamptz NOT NULL DEFAULT now()
);
