-- Where each case is: its area of the primary kind and its H3 cells on `cases`, and every
-- kind's area in `case_areas`. All derived by ingest/places.ts from lat/lon (or, for cases
-- without a point, from the area name the source gives), so they can be rebuilt at any time.
ALTER TABLE cases ADD COLUMN area_id VARCHAR;
ALTER TABLE cases ADD COLUMN h3_r7 VARCHAR;
ALTER TABLE cases ADD COLUMN h3_r8 VARCHAR;
ALTER TABLE cases ADD COLUMN h3_r9 VARCHAR;

CREATE TABLE case_areas (
  case_id   VARCHAR NOT NULL,
  area_kind VARCHAR NOT NULL,
  area_id   VARCHAR NOT NULL,
  method    VARCHAR NOT NULL CHECK (method IN ('point', 'source_name')),
  -- one area per kind: where polygons of a kind overlap, the assignment picks one
  PRIMARY KEY (case_id, area_kind)
);

-- Where each area's boundary came from. Boundary files are not always clean: neighbouring
-- polygons of one kind can overlap, and a point in the overlap goes to the feature that comes
-- first in its file (as a GIS spatial join does), so the position is kept. A table of its own
-- so that `areas` keeps the shape other loaders write to.
CREATE TABLE area_sources (
  area_id   VARCHAR PRIMARY KEY,
  file_name VARCHAR NOT NULL,
  feature   INTEGER NOT NULL,          -- 1-based position in the FeatureCollection
  loaded_at TIMESTAMPTZ NOT NULL
);
