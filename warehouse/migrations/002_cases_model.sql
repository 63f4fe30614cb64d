-- Derived: one row per case, rebuilt from case_events for the cases a batch touched.
CREATE TABLE cases (
  case_id           VARCHAR PRIMARY KEY,
  source            VARCHAR NOT NULL,
  source_case_id    VARCHAR NOT NULL,
  service_code      VARCHAR,
  service_name      VARCHAR,
  agency            VARCHAR,
  channel           VARCHAR,
  opened_at         TIMESTAMPTZ,
  first_response_at TIMESTAMPTZ,
  closed_at         TIMESTAMPTZ,        -- first `closed` event
  cancelled_at      TIMESTAMPTZ,
  due_at            TIMESTAMPTZ,
  status            VARCHAR NOT NULL,   -- open | closed | cancelled
  reopen_count      INTEGER NOT NULL,
  lat               DOUBLE,
  lon               DOUBLE,
  area_name         VARCHAR,
  quality_flags     VARCHAR[],
  refreshed_batch   VARCHAR
);
CREATE INDEX cases_opened_at ON cases (opened_at);
