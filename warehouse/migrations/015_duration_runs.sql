-- Each local day's durations, stored sorted (issue 10): for every case opened that day that had
-- ended, its time to close and its time to first response in seconds, one run per day and
-- service, agency and channel. A case's duration is fixed once it ended, so a Kaplan–Meier table
-- whose as-of time is after every case's times (the dashboard's default: the data's newest event)
-- reads these runs instead of listing every case's duration again, and lists only the cases that
-- had not ended, censored at the as-of time (queries/kpi-sql.ts). Kept by each batch for the days
-- it touched, and for every day when the warehouse's zone changes (models/refresh-duration-runs.sql);
-- migrate() builds it once for a warehouse that already holds cases.
CREATE TABLE case_duration_runs (
  opened_day    DATE NOT NULL,
  day_zone      VARCHAR NOT NULL,
  service_code  VARCHAR,
  service_name  VARCHAR,
  agency        VARCHAR,
  channel       VARCHAR,
  cases         INTEGER NOT NULL,
  close_ends    DOUBLE[] NOT NULL,  -- first closed − opened, seconds, ascending; data errors (closed before opened) left out
  response_ends DOUBLE[] NOT NULL   -- first response − opened, seconds, ascending; a response stamped before the opening left out
);
