-- Search shows each listing's latest Vastu score and grade and filters on the score
-- (min_vastu_score, docs/vastu.md): the read model carries them as columns, copied from the
-- listing's summary (migration 0008) by the same one mapping as every other column.
ALTER TABLE property_search ADD COLUMN vastu_score smallint CHECK (vastu_score BETWEEN 0 AND 100),
                            ADD COLUMN vastu_grade text;
UPDATE property_search s SET vastu_score = (p.vastu->>'score')::smallint,
                             vastu_grade = p.vastu->>'grade'
    FROM properties p WHERE p.id = s.id AND p.vastu IS NOT NULL;
-- Few listings are certified: a search for them reads this index, not every public row.
CREATE INDEX property_search_vastu_idx ON property_search (vastu_score, created_at DESC, id DESC)
    WHERE status IN ('active', 'reserved', 'sold') AND vastu_score IS NOT NULL;

-- The row now ends with the change number (set by the trigger), then the Vastu columns.
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
               NULL::bigint, (p.vastu->>'score')::smallint, p.vastu->>'grade')::property_search;
