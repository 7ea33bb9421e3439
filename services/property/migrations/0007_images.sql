-- A listing's photos (docs/images.md), part of the listing aggregate: an array in display
-- order, each {id, sha256, format, width, height, orientation, bytes, added_at, renditions:
-- [{width, height, format, url, bytes}]}. The files are named by the upload's SHA-256, so a
-- photo on two listings is stored once; the GIN index answers "does any listing still use
-- this photo?" when one is removed.
ALTER TABLE properties ADD COLUMN images jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(images) = 'array');
CREATE INDEX properties_images_idx ON properties USING gin (images jsonb_path_ops);
