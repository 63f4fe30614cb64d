-- Scheduled reports (issue 14): definitions made through the API, every run and every recipient's
-- delivery, and the last scheduled time each definition handled (so a run missed while the server
-- was down is caught up once at start). Definitions in civic.config.json are not stored here.

-- A definition made through the API (admins): its JSON as reports/report-config.ts validates it.
CREATE TABLE report_definitions (
  report_id   VARCHAR PRIMARY KEY,
  definition  VARCHAR NOT NULL,
  created_by  VARCHAR NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL,
  updated_by  VARCHAR NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);

-- One row per run: scheduled, caught up at start, on demand (API or CLI) or a retry of a run's
-- failed deliveries. status: running → succeeded (every delivery sent), partial (some failed) or
-- failed (the report could not be built, or no delivery succeeded). Never deleted with its definition:
-- the history of what was sent stays.
CREATE TABLE report_runs (
  run_id        VARCHAR PRIMARY KEY,
  report_id     VARCHAR NOT NULL,
  title         VARCHAR,
  run_trigger   VARCHAR NOT NULL CHECK (run_trigger IN ('schedule', 'catch-up', 'api', 'cli', 'retry')),
  scheduled_for TIMESTAMPTZ,            -- the cron slot a scheduled or caught-up run stands for
  retry_of      VARCHAR,                -- the run whose failed deliveries a retry resends
  requested_by  VARCHAR,                -- the principal that asked (API, CLI), NULL for the scheduler
  started_at    TIMESTAMPTZ NOT NULL,
  finished_at   TIMESTAMPTZ,
  status        VARCHAR NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
  error         VARCHAR,
  as_of         TIMESTAMPTZ,            -- the data's as-of time the report was built at
  period        VARCHAR,
  files         VARCHAR NOT NULL DEFAULT '[]', -- JSON: [{name, bytes, sha256, content_type}]
  definition    VARCHAR NOT NULL         -- JSON: the definition as it was when the run started
);

-- One row per recipient of a run (and the owner's failure notice, kind 'owner').
CREATE TABLE report_deliveries (
  run_id       VARCHAR NOT NULL,
  recipient    VARCHAR NOT NULL,          -- an e-mail address, a webhook URL (without credentials or query), or the folder's path
  kind         VARCHAR NOT NULL CHECK (kind IN ('folder', 'email', 'webhook', 'owner')),
  started_at   TIMESTAMPTZ NOT NULL,
  finished_at  TIMESTAMPTZ,
  status       VARCHAR NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  error        VARCHAR,
  detail       VARCHAR,                   -- how it went out: attached, as links (and why), files written
  PRIMARY KEY (run_id, recipient, kind)
);

-- The latest cron slot each definition has handled (run, or skipped because one was running).
CREATE TABLE report_schedule_state (
  report_id          VARCHAR PRIMARY KEY,
  last_scheduled_for TIMESTAMPTZ NOT NULL,
  updated_at         TIMESTAMPTZ NOT NULL
);
