-- Listings: the write model (properties) and the search read model (property_search), kept in
-- step by the projection that consumes property.* events (CQRS). Field meanings follow the
-- RESO Data Dictionary where one exists (docs/property-data.md).
CREATE TABLE properties (
    id               uuid        PRIMARY KEY,                      -- ListingKey
    owner_id         uuid        NOT NULL,                         -- ListAgentKey / owner
    title            text        NOT NULL,
    description      text        NOT NULL DEFAULT '',              -- PublicRemarks
    property_type    text        NOT NULL CHECK (property_type IN
                     ('apartment', 'independent_house', 'villa', 'plot', 'commercial')),
    listing_type     text        NOT NULL CHECK (listing_type IN ('sale', 'fractional')),
    status           text        NOT NULL CHECK (status IN
                     ('draft', 'active', 'reserved', 'sold', 'withdrawn')),
    price_minor      bigint      NOT NULL CHECK (price_minor >= 0),  -- ListPrice, minor units
    currency         text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    bedrooms         integer     NOT NULL CHECK (bedrooms BETWEEN 0 AND 50),     -- BedroomsTotal
    bathrooms        integer     NOT NULL CHECK (bathrooms BETWEEN 0 AND 50),    -- BathroomsTotalInteger
    area_sqft        integer     NOT NULL CHECK (area_sqft BETWEEN 1 AND 10000000), -- LivingArea
    address_line     text        NOT NULL DEFAULT '',              -- UnparsedAddress
    locality         text        NOT NULL DEFAULT '',              -- SubdivisionName
    city             text        NOT NULL,                         -- City
    state            text        NOT NULL DEFAULT '',              -- StateOrProvince
    postal_code      text        NOT NULL DEFAULT '',              -- PostalCode
    country          text        NOT NULL DEFAULT 'IN' CHECK (country ~ '^[A-Z]{2}$'),  -- Country
    latitude         double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude        double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    facing           text        CHECK (facing IN ('N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW')),
    amenities        text[]      NOT NULL DEFAULT '{}',
    version          integer     NOT NULL DEFAULT 1,               -- the ETag
    created_at       timestamptz NOT NULL DEFAULT now(),           -- OriginalEntryTimestamp
    updated_at       timestamptz NOT NULL DEFAULT now()            -- ModificationTimestamp
);
CREATE INDEX properties_owner_idx ON properties (owner_id, created_at);

-- The read model: what search needs, denormalised, with its own indexes. Only the projection
-- (and `restinu property rebuild-read-model`) writes it. The description is only in the text
-- document, not a column: search answers do not show it, and narrow rows mean fewer pages.
CREATE EXTENSION IF NOT EXISTS btree_gin;  -- (city_key, document) in one GIN index
CREATE TABLE property_search (
    id             uuid        PRIMARY KEY,
    owner_id       uuid        NOT NULL,
    title          text        NOT NULL,
    property_type  text        NOT NULL,
    listing_type   text        NOT NULL,
    status         text        NOT NULL,
    price_minor    bigint      NOT NULL,
    currency       text        NOT NULL,
    bedrooms       integer     NOT NULL,
    bathrooms      integer     NOT NULL,
    area_sqft      integer     NOT NULL,
    locality       text        NOT NULL,
    city           text        NOT NULL,
    city_key       text        NOT NULL,                            -- lower(city), for filters
    state          text        NOT NULL,
    country        text        NOT NULL,
    latitude       double precision NOT NULL,
    longitude      double precision NOT NULL,
    geog           geography(Point, 4326) NOT NULL,
    facing         text,
    amenities      text[]      NOT NULL,
    version        integer     NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    document       tsvector    NOT NULL                             -- title A, locality B, description C
);
-- Search shows active, reserved and sold listings; drafts and withdrawn ones are kept (so a
-- relisting is an update) but every public index leaves them out.
CREATE INDEX property_search_city_price_idx ON property_search (city_key, price_minor, id)
    WHERE status IN ('active', 'reserved', 'sold');
CREATE INDEX property_search_city_newest_idx ON property_search (city_key, created_at DESC, id DESC)
    WHERE status IN ('active', 'reserved', 'sold');
CREATE INDEX property_search_newest_idx ON property_search (created_at DESC, id DESC)
    WHERE status IN ('active', 'reserved', 'sold');
CREATE INDEX property_search_price_idx ON property_search (price_minor, id)
    WHERE status IN ('active', 'reserved', 'sold');
CREATE INDEX property_search_geog_idx ON property_search USING gist (geog)
    WHERE status IN ('active', 'reserved', 'sold');
CREATE INDEX property_search_box_idx ON property_search USING gist ((geog::geometry))
    WHERE status IN ('active', 'reserved', 'sold');
CREATE INDEX property_search_document_idx ON property_search USING gin (document)
    WHERE status IN ('active', 'reserved', 'sold');
CREATE INDEX property_search_city_document_idx ON property_search USING gin (city_key, document)
    WHERE status IN ('active', 'reserved', 'sold');

-- The one mapping from a listing to its search row, used by the projection (a listing taken
-- from an event) and by the rebuild (every listing in the write model), so both give the same.
CREATE FUNCTION property_search_row(p properties) RETURNS property_search
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ROW(p.id, p.owner_id, p.title, p.property_type, p.listing_type,
               p.status, p.price_minor, p.currency, p.bedrooms, p.bathrooms, p.area_sqft,
               p.locality, p.city, lower(p.city), p.state, p.country, p.latitude, p.longitude,
               ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography,
               p.facing, p.amenities, p.version, p.created_at, p.updated_at,
               setweight(to_tsvector('english', p.title), 'A') ||
               setweight(to_tsvector('english', p.locality), 'B') ||
               setweight(to_tsvector('english', p.description), 'C'))::property_search;
