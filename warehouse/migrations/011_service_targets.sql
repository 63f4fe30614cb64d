-- An on-time target per service (issue 11): the share of judged cases a service means to close by
-- their due time, 0–1. NULL = the configured default (targets.on_time in civic.config.json); a
-- per-service entry in the configuration overrides this column (warehouse/analytics/targets.ts).
ALTER TABLE services ADD COLUMN on_time_target DOUBLE;
