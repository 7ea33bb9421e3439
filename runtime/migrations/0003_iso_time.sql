-- Timestamps in API answers: RFC 3339 in UTC with second precision ("2026-11-25T21:06:33Z"),
-- one definition for every service's queries.
CREATE FUNCTION restinu_iso(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
