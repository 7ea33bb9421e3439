-- Shared by every service database: every write is audited in the service's own database (who
-- did what to which entity, when, under which request).
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    text,
    action      text        NOT NULL,
    entity_type text        NOT NULL,
    entity_id   text,
    request_id  text,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, at);
