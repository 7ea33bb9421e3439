-- Wallets (docs/blockchain.md, "Wallets"): a user's one Ethereum address, either linked (they
-- proved they hold its key by signing a Sign-In with Ethereum challenge) or custodial (the
-- service made the key and keeps it sealed). Addresses are 0x lower-case hex.

-- The challenges issued: `message` is the exact EIP-4361 text the user is asked to sign; linking
-- requires the signed text to be byte-identical to it. A challenge is used at most once
-- (`used_at`), and a new one trims the user's open challenges to the newest few.
CREATE TABLE wallet_challenges (
    nonce       text        PRIMARY KEY CHECK (nonce ~ '^[A-Za-z0-9]{8,}$'),
    user_id     uuid        NOT NULL,
    address     text        NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
    message     text        NOT NULL,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL CHECK (expires_at > issued_at),
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()  -- orders challenges of one second
);
-- A user's open challenges, newest first (the trim), and their expired ones (the sweep).
CREATE INDEX wallet_challenges_open_idx ON wallet_challenges (user_id, created_at DESC)
    WHERE used_at IS NULL;

-- One wallet per user, one user per address. `sealed_key` (custodial only): base64 of the
-- XChaCha20-Poly1305 nonce and the sealed 32-byte secret, bound to the user and the address.
CREATE TABLE wallets (
    user_id     uuid        PRIMARY KEY,
    address     text        NOT NULL UNIQUE CHECK (address ~ '^0x[0-9a-f]{40}$'),
    kind        text        NOT NULL CHECK (kind IN ('linked', 'custodial')),
    sealed_key  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'custodial') = (sealed_key IS NOT NULL))
);
