-- The platform's contracts, deployed once by `restinu blockchain deploy` (docs/blockchain.md):
-- the timelock that holds every admin role, the identity registry, the payment token and the
-- deed. Each is sent as a chain transaction (purpose platform.deploy, reference its name), so a
-- deployment interrupted half way goes on where it stopped.
CREATE TABLE chain_platform (
    name         text        PRIMARY KEY CHECK (name IN ('timelock', 'registry', 'payment_token', 'deed')),
    address      text        NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
    tx_id        uuid        NOT NULL REFERENCES chain_transactions (id),
    deployed_at  timestamptz NOT NULL DEFAULT now()
);
