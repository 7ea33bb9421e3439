-- Search within a radius or a bounding box runs on PostGIS geography columns.
CREATE EXTENSION IF NOT EXISTS postgis;
