-- The jurisdiction the warehouse's data belongs to: its name and the time zone its days, weeks
-- and months are cut in. One row at most (the loader replaces it, never adds a second), written
-- by the first real ingest; the demo city writes it only into an empty warehouse, and a real
-- ingest replaces the demo's, so the demo's name never labels a real city's data. Configuration
-- (civic.config.json / CIVIC_JURISDICTION / CIVIC_TIMEZONE), when set, wins over this row.
CREATE TABLE jurisdiction (
  name        VARCHAR NOT NULL,
  timezone    VARCHAR NOT NULL,
  source      VARCHAR NOT NULL CHECK (source IN ('demo', 'ingest', 'config')),
  recorded_at TIMESTAMPTZ NOT NULL,
  batch_id    VARCHAR
);

-- Warehouses loaded before this table existed: the first batch of a built-in city profile that
-- loaded rows names the jurisdiction…
INSERT INTO jurisdiction
SELECT k.name, k.timezone, 'ingest', now(), b.batch_id
FROM ingest_batches b
JOIN (VALUES ('myla311', 'City of Los Angeles', 'America/Los_Angeles'),
             ('nyc311', 'New York City', 'America/New_York'),
             ('sf311', 'San Francisco', 'America/Los_Angeles')) AS k(profile, name, timezone) ON k.profile = b.profile
WHERE b.rows_loaded > 0
ORDER BY b.started_at
LIMIT 1;

-- …and a warehouse that holds only the demo city's cases is the demo's.
INSERT INTO jurisdiction
SELECT 'Riverton (demo city)', 'America/New_York', 'demo', now(), NULL
WHERE NOT EXISTS (SELECT 1 FROM jurisdiction)
  AND EXISTS (SELECT 1 FROM case_events WHERE source = 'demo')
  AND NOT EXISTS (SELECT 1 FROM case_events WHERE source <> 'demo');
