-- Vastu certificates (docs/vastu.md, docs/vastu-certificates.md): each one the exact bytes the
-- service signed (Ed25519) and the signature; a newer certificate for the same listing
-- supersedes the older ones (kept, still verifiable, marked). The listing row carries its
-- latest score, so the listing JSON shows it with no join.
CREATE TABLE vastu_certificates (
    id             uuid        PRIMARY KEY,
    property_id    uuid        NOT NULL REFERENCES properties (id),
    score          integer     NOT NULL CHECK (score BETWEEN 0 AND 100),
    grade          text        NOT NULL,
    rules_version  text        NOT NULL,
    key_id         text        NOT NULL,
    payload        text        NOT NULL,   -- the canonical JSON signed, byte for byte
    signature      bytea       NOT NULL CHECK (length(signature) = 64),
    issued_by      uuid        NOT NULL,
    issued_at      timestamptz NOT NULL,
    superseded_by  uuid        REFERENCES vastu_certificates (id)
);
CREATE INDEX vastu_certificates_property_idx ON vastu_certificates (property_id, issued_at DESC);
-- {"certificate_id", "score", "grade", "rules_version", "issued_at"} of the latest, or NULL.
ALTER TABLE properties ADD COLUMN vastu jsonb;
