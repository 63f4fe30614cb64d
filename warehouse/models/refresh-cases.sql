-- The fresh `cases` rows of every case a batch touched (temp table `refresh_targets`) → temp
-- table `refreshed_cases`; ingest/refresh-cases.ts places them and writes them to `cases`.
-- A case new to the warehouse has all its events in the batch's own `new_events`, so only the
-- cases held before are read back from case_events (with their new events from `new_events`): a
-- first load of a large file never reads case_events back, and a daily load reads only the events
-- of the cases it changed. It runs before the batch's transaction (ingest/load.ts): case_events
-- does not hold the batch's events yet.
-- A large batch is rebuilt a slice at a time (ingest/refresh-cases.ts): a new case's events are
-- in the slice's rows $first_row…$last_row of `new_events`, or, for a case listed again in a
-- later slice, in `refresh_strays`.
-- Attributes come from the latest event that carries them. Local days are cut in zone $tz (the
-- warehouse's, as refresh-local-days.sql would cut them).
CREATE OR REPLACE TEMP TABLE refreshed_cases AS
WITH ev AS (
  SELECT n.case_key AS case_id, $source AS source, n.case_id_raw AS source_case_id, n.event_type, n.occurred_at,
         n.service_code, n.service_name, n.agency, n.channel, n.expected_at, n.lat, n.lon, n.area_name, n.quality_flags
  FROM new_events n SEMI JOIN (SELECT case_id FROM refresh_targets WHERE NOT existed AND NOT spans AND NOT one_row) t ON t.case_id = n.case_key
  WHERE n.row_number BETWEEN $first_row::INTEGER AND $last_row::INTEGER
  UNION ALL
  SELECT n.case_key, $source, n.case_id_raw, n.event_type, n.occurred_at,
         n.service_code, n.service_name, n.agency, n.channel, n.expected_at, n.lat, n.lon, n.area_name, n.quality_flags
  FROM refresh_strays n SEMI JOIN (SELECT case_id FROM refresh_targets WHERE NOT existed AND spans) t ON t.case_id = n.case_key
  UNION ALL
  SELECT e.case_id, e.source, e.source_case_id, e.event_type, e.occurred_at,
         e.service_code, e.service_name, e.agency, e.channel, e.expected_at, e.lat, e.lon, e.area_name, e.quality_flags
  FROM case_events e SEMI JOIN (SELECT case_id FROM refresh_targets WHERE existed) t ON t.case_id = e.case_id
  UNION ALL
  -- …and their events in this batch, which are written to case_events only after (in the batch's
  -- transaction): together, the events case_events will hold for them once it commits.
  SELECT n.case_key, $source, n.case_id_raw, n.event_type, n.occurred_at,
         n.service_code, n.service_name, n.agency, n.channel, n.expected_at, n.lat, n.lon, n.area_name, n.quality_flags
  FROM new_events n SEMI JOIN (SELECT case_id FROM refresh_targets WHERE existed) t ON t.case_id = n.case_key
), lifecycle AS (
  SELECT
    case_id,
    any_value(source)                                                           AS source,
    any_value(source_case_id)                                                   AS source_case_id,
    arg_max(service_code, occurred_at) FILTER (WHERE service_code IS NOT NULL)  AS service_code,
    arg_max(service_name, occurred_at) FILTER (WHERE service_name IS NOT NULL)  AS service_name,
    arg_max(agency, occurred_at)       FILTER (WHERE agency IS NOT NULL)        AS agency,
    arg_min(channel, occurred_at)      FILTER (WHERE channel IS NOT NULL)       AS channel,
    min(occurred_at) FILTER (WHERE event_type = 'opened')                       AS opened_at,
    -- First response: the first thing the city did. A note may be the citizen's own follow-up, so it does not count.
    min(occurred_at) FILTER (WHERE event_type IN ('acknowledged','assigned','status_changed','closed','cancelled')) AS first_response_at,
    min(occurred_at) FILTER (WHERE event_type = 'closed')                       AS closed_at,
    min(occurred_at) FILTER (WHERE event_type = 'cancelled')                    AS cancelled_at,
    arg_max(expected_at, occurred_at) FILTER (WHERE expected_at IS NOT NULL)    AS expected_at,
    -- Status from the end events alone, so a close stamped at (or, in dirty data, before) the
    -- open time still counts as closed; only a later reopening makes the case open again.
    max(occurred_at) FILTER (WHERE event_type IN ('closed','cancelled'))        AS last_end_at,
    arg_max(event_type, occurred_at) FILTER (WHERE event_type IN ('closed','cancelled')) AS last_end_type,
    max(occurred_at) FILTER (WHERE event_type = 'reopened')                     AS last_reopen_at,
    count(*) FILTER (WHERE event_type = 'reopened')::INTEGER                    AS reopen_count,
    max(occurred_at)                                                            AS last_event_at,
    arg_max(lat, occurred_at) FILTER (WHERE lat IS NOT NULL)                    AS lat,
    arg_max(lon, occurred_at) FILTER (WHERE lon IS NOT NULL)                    AS lon,
    arg_max(area_name, occurred_at) FILTER (WHERE area_name IS NOT NULL)        AS area_name,
    list_distinct(flatten(list(quality_flags) FILTER (WHERE quality_flags IS NOT NULL))) AS quality_flags
  FROM ev
  GROUP BY case_id
  UNION ALL
  -- A new case whose events all come from one flat row (`one_row`, ingest/sql/refresh-targets.sql):
  -- its opened event, and the end event the row adds (`row_end_*`, ingest/events-sql.ts), if any.
  -- Two events with the same attributes, so each aggregate above is read off them directly —
  -- the same figures without grouping a million cases' events (the batch's costliest step).
  -- A rule changed above changes here too: test/integration/ingest-one-row.test.ts rebuilds
  -- such cases both ways and compares every column.
  SELECT
    n.case_key, $source, n.case_id_raw, n.service_code, n.service_name, n.agency, n.channel,
    n.occurred_at                                                     AS opened_at,
    n.row_end_at                                                      AS first_response_at,
    CASE WHEN n.row_end_type = 'closed' THEN n.row_end_at END         AS closed_at,
    CASE WHEN n.row_end_type = 'cancelled' THEN n.row_end_at END      AS cancelled_at,
    n.expected_at,
    n.row_end_at                                                      AS last_end_at,
    n.row_end_type                                                    AS last_end_type,
    NULL::TIMESTAMPTZ                                                 AS last_reopen_at,
    0::INTEGER                                                        AS reopen_count,
    greatest(n.occurred_at, n.row_end_at)                             AS last_event_at,
    n.lat, n.lon, n.area_name,
    list_distinct(flatten(CASE WHEN n.quality_flags IS NULL THEN NULL
                               WHEN n.row_end_at IS NULL THEN [n.quality_flags]
                               ELSE [n.quality_flags, n.quality_flags] END)) AS quality_flags
  FROM new_events n SEMI JOIN (SELECT case_id FROM refresh_targets WHERE one_row) t ON t.case_id = n.case_key
  WHERE n.row_number BETWEEN $first_row::INTEGER AND $last_row::INTEGER AND n.event_type = 'opened'
)
SELECT
  l.case_id, l.source, l.source_case_id, l.service_code,
  coalesce(l.service_name, s.name) AS service_name,
  coalesce(l.agency, s.agency)     AS agency,
  l.channel, l.opened_at, l.first_response_at, l.closed_at, l.cancelled_at,
  coalesce(l.expected_at, l.opened_at + to_microseconds((s.sla_hours * 3600e6)::BIGINT)) AS due_at,
  CASE WHEN l.last_end_at IS NOT NULL AND (l.last_reopen_at IS NULL OR l.last_reopen_at < l.last_end_at)
       THEN l.last_end_type ELSE 'open' END AS status,
  l.reopen_count, l.lat, l.lon, l.area_name,
  CASE WHEN len(l.quality_flags) = 0 THEN NULL ELSE l.quality_flags END AS quality_flags,
  $batch_id AS refreshed_batch, l.last_event_at,
  (l.opened_at AT TIME ZONE $tz)::DATE AS opened_day,
  (l.closed_at AT TIME ZONE $tz)::DATE AS closed_day,
  $tz AS day_zone
FROM lifecycle l
LEFT JOIN services s ON s.service_code = l.service_code;
