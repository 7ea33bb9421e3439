-- Key rotation publishes a new key before anything is signed with it: the newest key whose
-- activates_at has passed signs; every key not yet retired (or retired within a token's
-- lifetime) is in the JWKS, so verifiers know a key before the first token that names it.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now();
