-- The notification service (docs/notifications.md): whom we reach and how (from the user
-- service's events and the users' own settings), the in-app inbox, and every message with its
-- delivery log.

-- A copy of what the user service knows of each account, from user.registered and
-- user.profile_changed.
CREATE TABLE recipients (
    user_id        uuid        PRIMARY KEY,
    email          text        NOT NULL,
    name           text        NOT NULL DEFAULT '',
    phone          text,                              -- E.164
    language       text        NOT NULL DEFAULT 'en',
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Push tokens of the user's devices (FCM registration tokens).
CREATE TABLE devices (
    token       text        PRIMARY KEY,
    user_id     uuid        NOT NULL,
    platform    text        NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_user_idx ON devices (user_id);

-- A switched preference per user, category and channel; no row means the default
-- (docs/notifications.md). Security messages ignore it.
CREATE TABLE preferences (
    user_id   uuid    NOT NULL,
    category  text    NOT NULL,
    channel   text    NOT NULL CHECK (channel IN ('email', 'push', 'sms', 'in_app')),
    enabled   boolean NOT NULL,
    PRIMARY KEY (user_id, category, channel)
);

-- The in-app inbox.
CREATE TABLE notifications (
    id          uuid        PRIMARY KEY,            -- UUIDv7: sorts by creation
    user_id     uuid        NOT NULL,
    event_id    uuid        NOT NULL,
    category    text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    link        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- One message to one recipient on one channel for one event: never two (the UNIQUE key), whatever
-- redelivers the event.
CREATE TABLE messages (
    id              uuid        PRIMARY KEY,        -- also the e-mail's Message-ID and providers'
                                                    -- idempotency key
    event_id        uuid        NOT NULL,
    channel         text        NOT NULL CHECK (channel IN ('email', 'push', 'sms', 'in_app')),
    user_id         uuid        NOT NULL,
    template        text        NOT NULL,
    category        text        NOT NULL,
    address         text        NOT NULL,           -- e-mail, phone, device token or user id
    to_name         text        NOT NULL DEFAULT '',
    subject         text        NOT NULL DEFAULT '',
    body_text       text        NOT NULL,
    body_html       text        NOT NULL DEFAULT '',
    data            text        NOT NULL DEFAULT '{}',  -- a JSON object (push, in-app)
    unsubscribe     text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,                    -- while sending: then another may take it
    last_error      text,
    provider        text,
    provider_id     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (event_id, channel, user_id)
);
CREATE INDEX messages_due_idx ON messages (next_attempt_at) WHERE status = 'queued';
CREATE INDEX messages_leased_idx ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_user_idx ON messages (user_id, created_at DESC);

-- What happened to each message, in order: queued, then per attempt sent, failed (with the
-- reason and when it is tried again) or dead.
CREATE TABLE delivery_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  uuid        NOT NULL REFERENCES messages (id),
    attempt     integer     NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('queued', 'sent', 'failed', 'dead')),
    detail      text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_log_message_idx ON delivery_log (message_id, id);

-- A new queued message wakes the dispatchers at commit.
CREATE FUNCTION notification_messages_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notification_messages', '');
    RETURN NULL;
END $$;
CREATE TRIGGER messages_notify AFTER INSERT ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION notification_messages_notify();

-- Saved searches: a new listing that matches tells its owner, at most once a day per search.
CREATE TABLE saved_searches (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL,
    name             text        NOT NULL,
    city             text,
    property_type    text,
    min_price        bigint,
    max_price        bigint,
    currency         text,
    min_bedrooms     integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_notified_at timestamptz
);
CREATE INDEX saved_searches_user_idx ON saved_searches (user_id);
CREATE INDEX saved_searches_city_idx ON saved_searches (lower(city));
