-- Every write to the read model takes the next change number, whichever path wrote it (the
-- projection, a rebuild, the seed): each instance's in-memory search index catches up by
-- reading the rows changed since the last number it saw (ADR 0012).
CREATE SEQUENCE property_search_changes;
ALTER TABLE property_search ADD COLUMN change_seq bigint;
UPDATE property_search SET change_seq = nextval('property_search_changes');
ALTER TABLE property_search ALTER COLUMN change_seq SET NOT NULL;
CREATE INDEX property_search_change_idx ON property_search (change_seq);

CREATE FUNCTION property_search_stamp() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('property_search_changes');
    RETURN NEW;
END
$$;
CREATE TRIGGER property_search_stamp BEFORE INSERT OR UPDATE ON property_search
    FOR EACH ROW EXECUTE FUNCTION property_search_stamp();

-- The row now ends with the change number, which the trigger sets.
CREATE OR REPLACE FUNCTION property_search_row(p properties) RETURNS property_search
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ROW(p.id, p.owner_id, p.title, p.property_type, p.listing_type,
               p.status, p.price_minor, p.currency, p.bedrooms, p.bathrooms, p.area_sqft,
               p.locality, p.city, lower(p.city), p.state, p.country, p.latitude, p.longitude,
               ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography,
               p.facing, p.amenities, p.version, p.created_at, p.updated_at,
               setweight(to_tsvector('english', p.title), 'A') ||
               setweight(to_tsvector('english', p.locality), 'B') ||
               setweight(to_tsvector('english', p.description), 'C'),
               NULL::bigint)::property_search;
