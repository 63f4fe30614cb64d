-- Every day, for refresh-duration-runs.sql to rebuild: the warehouse's zone changed (every case's
-- local days with it), or migration 015 builds the runs for the first time.
CREATE OR REPLACE TEMP TABLE run_days AS
SELECT opened_day FROM cases WHERE opened_day IS NOT NULL
UNION SELECT opened_day FROM case_duration_runs;
