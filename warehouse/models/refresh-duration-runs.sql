-- The duration runs (migration 015) of the days in temp table `run_days` (column opened_day; the
-- days a batch touched, or every day: duration-run-days-all.sql): those days' runs are dropped
-- and built again from `cases`. What counts as ended and counted is queries/kpi-sql.ts's kmTerms
-- for an as-of time after every case's times: a case ended once its end is stamped, and is left
-- out when the end is stamped before its opening. Seconds from whole microseconds, as
-- buildKmDurationsQuery lists them. Each list is sorted once built (list_sort): an ordered
-- aggregate keeps a sort per group and ran out of a batch's memory budget at a million cases.
CREATE TEMP TABLE IF NOT EXISTS run_days (opened_day DATE);
DELETE FROM case_duration_runs WHERE opened_day IN (SELECT opened_day FROM run_days);
INSERT INTO case_duration_runs
SELECT opened_day, day_zone, service_code, service_name, agency, channel, count(*)::INTEGER AS cases,
       coalesce(list_sort(list((epoch_us(closed_at) - epoch_us(opened_at)) / 1e6) FILTER (WHERE closed_at >= opened_at)), []::DOUBLE[]) AS close_ends,
       coalesce(list_sort(list((epoch_us(first_response_at) - epoch_us(opened_at)) / 1e6) FILTER (WHERE first_response_at >= opened_at)), []::DOUBLE[]) AS response_ends
FROM cases
WHERE opened_day IN (SELECT opened_day FROM run_days) AND opened_at IS NOT NULL AND day_zone IS NOT NULL
GROUP BY opened_day, day_zone, service_code, service_name, agency, channel;
DROP TABLE run_days;
