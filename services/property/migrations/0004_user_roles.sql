-- Each user's role as the user service knows it now, fed by its events (user.registered,
-- user.role_changed). Admin and agent rights are decided on this row, not on the access token's
-- claim, which would outlive a demotion until the token expires (ADR 0004, docs/security.md).
-- event_id is the UUIDv7 of the event that set the row: an older event never overwrites it.
CREATE TABLE user_roles (
    user_id    uuid        PRIMARY KEY,
    role       text        NOT NULL,
    event_id   uuid        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
