-- cases without its PRIMARY KEY and its opened_at index. Both are ART indexes DuckDB maintains
-- on every write, and the refresh rewrites the cases of each batch: they cost a quarter of
-- ingest time (npm run bench). Uniqueness comes from the refresh itself (delete the touched
-- cases, insert one row per case from a GROUP BY); range scans on opened_at use DuckDB's
-- min/max zone maps, which need no index.
CREATE TABLE cases_new (
  case_id           VARCHAR NOT NULL,
  source            VARCHAR NOT NULL,
  source_case_id    VARCHAR NOT NULL,
  service_code      VARCHAR,
  service_name      VARCHAR,
  agency            VARCHAR,
  channel           VARCHAR,
  opened_at         TIMESTAMPTZ,
  first_response_at TIMESTAMPTZ,
  closed_at         TIMESTAMPTZ,
  cancelled_at      TIMESTAMPTZ,
  due_at            TIMESTAMPTZ,
  status            VARCHAR NOT NULL,
  reopen_count      INTEGER NOT NULL,
  lat               DOUBLE,
  lon               DOUBLE,
  area_name         VARCHAR,
  quality_flags     VARCHAR[],
  refreshed_batch   VARCHAR,
  area_id           VARCHAR,
  h3_r7             VARCHAR,
  h3_r8             VARCHAR,
  h3_r9             VARCHAR
);
INSERT INTO cases_new SELECT * FROM cases;
DROP INDEX IF EXISTS cases_opened_at;
DROP TABLE cases;
ALTER TABLE cases_new RENAME TO cases;
