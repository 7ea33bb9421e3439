-- The event bus (docs/events.md). A service writes its state change and its events in one
-- transaction (restinu_outbox); the relay publishes them to Redis Streams and marks them sent.
-- A consumer records each event it applied in restinu_inbox inside the transaction of its
-- effect, so a redelivered event has no second effect.
CREATE TABLE restinu_outbox (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             uuid        NOT NULL UNIQUE,
    type           text        NOT NULL,
    schema_version integer     NOT NULL,
    occurred_at    timestamptz NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    trace_id       text        NOT NULL DEFAULT '',
    data           jsonb       NOT NULL,
    published_at   timestamptz
);
-- The relay's queue: unpublished rows, and per aggregate the oldest first.
CREATE INDEX restinu_outbox_pending_idx ON restinu_outbox (seq) WHERE published_at IS NULL;
CREATE INDEX restinu_outbox_aggregate_idx ON restinu_outbox (aggregate_type, aggregate_id, seq)
    WHERE published_at IS NULL;
CREATE INDEX restinu_outbox_published_idx ON restinu_outbox (published_at)
    WHERE published_at IS NOT NULL;

-- Wake the relay at commit instead of letting it poll in a tight loop.
CREATE FUNCTION restinu_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('restinu_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER restinu_outbox_notify AFTER INSERT ON restinu_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION restinu_outbox_notify();

CREATE TABLE restinu_inbox (
    consumer_group text        NOT NULL,
    event_id       uuid        NOT NULL,
    handled_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);

-- Failed attempts survive a crash, so the attempt count that leads to the dead letter is real.
CREATE TABLE restinu_event_failures (
    consumer_group text        NOT NULL,
    event_id       uuid        NOT NULL,
    attempts       integer     NOT NULL,
    last_error     text        NOT NULL,
    last_failed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);
