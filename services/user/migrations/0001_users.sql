-- Accounts, sessions (one per refresh-token family), login throttling, KYC and signing keys.
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,           -- normalised (lower case, trimmed)
    password_hash text        NOT NULL,           -- Argon2id, libsodium's encoded string
    name          text        NOT NULL DEFAULT '',
    phone         text,                           -- E.164
    language      text        NOT NULL DEFAULT 'en',
    role          text        NOT NULL DEFAULT 'investor'
                  CHECK (role IN ('investor', 'agent', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness even if a writer forgot to normalise.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
    id           uuid        PRIMARY KEY,         -- also the refresh-token family
    user_id      uuid        NOT NULL REFERENCES users (id),
    device       text        NOT NULL DEFAULT '',
    ip           text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    revoke_reason text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash  bytea       PRIMARY KEY,          -- SHA-256 of the opaque token
    session_id  uuid        NOT NULL REFERENCES sessions (id),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz                       -- set on rotation; a second use = reuse
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE login_throttle (
    key          text        PRIMARY KEY,         -- 'account:<email>' or 'ip:<address>'
    failures     integer     NOT NULL DEFAULT 0,
    last_failure timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz
);

CREATE TABLE kyc (
    user_id           uuid        PRIMARY KEY REFERENCES users (id),
    status            text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    document_type     text        NOT NULL CHECK (document_type IN ('aadhaar', 'pan', 'passport')),
    document_cipher   bytea       NOT NULL,       -- libsodium secretbox(nonce || box)
    document_masked   text        NOT NULL,
    full_name         text        NOT NULL,
    date_of_birth     date        NOT NULL,
    rejection_reason  text,
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz,
    decided_by        uuid
);
CREATE INDEX kyc_pending_idx ON kyc (submitted_at) WHERE status = 'pending';

CREATE TABLE signing_keys (
    kid          text        PRIMARY KEY,
    private_pem  text        NOT NULL,
    public_pem   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz                      -- still verifies until expiry of its tokens
);
