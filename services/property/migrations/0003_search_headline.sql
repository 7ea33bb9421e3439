-- Relevance ranks a listing whose title and locality alone answer the words (the document's
-- A and B weights) above one that needs its description, newest first within each (ADR 0006).
-- Ranking that way walks the newest-first index and stops after a page; when the newest rows
-- hold too few title matches, this index finds all of them instead.
CREATE INDEX property_search_city_headline_idx ON property_search
    USING gin (city_key, ts_filter(document, '{a,b}'))
    WHERE status IN ('active', 'reserved', 'sold');
