-- Raw, append-only tables: the source of truth. Nothing here is updated in place.

CREATE TABLE ingest_batches (
  batch_id       VARCHAR PRIMARY KEY,
  source         VARCHAR NOT NULL,
  kind           VARCHAR NOT NULL,
  file_name      VARCHAR,
  profile        VARCHAR,
  started_at     TIMESTAMPTZ NOT NULL,
  finished_at    TIMESTAMPTZ,
  rows_read      INTEGER,
  rows_loaded    INTEGER,
  rows_rejected  INTEGER,
  rows_duplicate INTEGER,
  rows_flagged   INTEGER,
  events_added   INTEGER
);

-- Every row that was not loaded, with why. `raw` holds only the columns the profile maps or
-- keeps, so personal fields a profile does not keep never enter the warehouse, not even here.
CREATE TABLE ingest_rejects (
  batch_id   VARCHAR NOT NULL,
  row_number INTEGER NOT NULL,
  field      VARCHAR,
  reason     VARCHAR NOT NULL,
  raw        JSON
);

CREATE TABLE case_events (
  event_id       VARCHAR PRIMARY KEY,   -- md5(source|case_id|event_type|occurred_at µs): a repeat is a no-op
  case_id        VARCHAR NOT NULL,      -- source || ':' || source_case_id, unique across sources
  event_type     VARCHAR NOT NULL CHECK (event_type IN
                   ('opened','acknowledged','assigned','status_changed','closed','reopened','cancelled','duplicate_of','note')),
  occurred_at    TIMESTAMPTZ NOT NULL,
  source         VARCHAR NOT NULL,
  batch_id       VARCHAR NOT NULL,
  source_case_id VARCHAR NOT NULL,
  service_code   VARCHAR,
  service_name   VARCHAR,
  agency         VARCHAR,
  channel        VARCHAR,
  status         VARCHAR,
  lat            DOUBLE,
  lon            DOUBLE,
  area_name      VARCHAR,               -- the area the source itself names, if any
  expected_at    TIMESTAMPTZ,           -- the source's own due time (Open311 expected_datetime)
  quality_flags  VARCHAR[],
  attributes     JSON                   -- fields a profile keeps on purpose
);

CREATE TABLE interactions (
  interaction_id VARCHAR PRIMARY KEY,
  case_id        VARCHAR,
  channel        VARCHAR NOT NULL,
  direction      VARCHAR NOT NULL CHECK (direction IN ('inbound','outbound')),
  started_at     TIMESTAMPTZ NOT NULL,
  ended_at       TIMESTAMPTZ,
  wait_seconds   DOUBLE,
  handle_seconds DOUBLE,
  outcome        VARCHAR,               -- e.g. resolved_first_contact, transferred, abandoned, case_created
  team           VARCHAR,
  citizen_key    VARCHAR,               -- keyed hash, never the identifier itself
  batch_id       VARCHAR
);

CREATE TABLE survey_responses (
  response_id    VARCHAR PRIMARY KEY,
  case_id        VARCHAR,
  interaction_id VARCHAR,
  answered_at    TIMESTAMPTZ NOT NULL,
  csat           TINYINT CHECK (csat BETWEEN 1 AND 5),
  nps            TINYINT CHECK (nps BETWEEN 0 AND 10),
  trust          TINYINT CHECK (trust BETWEEN 1 AND 5),
  batch_id       VARCHAR
);

-- Reference data. `service_group` is DESIGN.md's `group` (a reserved word in SQL).
CREATE TABLE calendars (
  calendar_id    VARCHAR PRIMARY KEY,
  timezone       VARCHAR NOT NULL,
  business_hours JSON,                  -- e.g. {"mon":["08:00","17:00"], …}
  holidays       DATE[]
);

CREATE TABLE services (
  service_code  VARCHAR PRIMARY KEY,
  name          VARCHAR NOT NULL,
  agency        VARCHAR,
  service_group VARCHAR,
  sla_hours     DOUBLE,
  sla_calendar  VARCHAR                 -- NULL = calendar hours; else a calendars.calendar_id
);

CREATE TABLE areas (
  area_id    VARCHAR PRIMARY KEY,
  name       VARCHAR NOT NULL,
  kind       VARCHAR NOT NULL,          -- e.g. district, neighborhood_council
  population INTEGER,
  geometry   JSON NOT NULL              -- GeoJSON Polygon or MultiPolygon, WGS84
);
