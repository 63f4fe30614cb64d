-- Inserts fresh `cases` rows for every case with an event in batch $batch_id (run after
-- refresh-cases-delete). Incremental: untouched cases are not read. Attributes come from the
-- latest event that carries them.
INSERT INTO cases (case_id, source, source_case_id, service_code, service_name, agency, channel, opened_at,
  first_response_at, closed_at, cancelled_at, due_at, status, reopen_count, lat, lon, area_name, quality_flags,
  refreshed_batch, last_event_at)
WITH touched AS (
  SELECT DISTINCT case_id FROM case_events WHERE batch_id = $batch_id
), ev AS (
  SELECT e.* FROM case_events e SEMI JOIN touched t ON e.case_id = t.case_id
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
  CASE WHEN len(l.quality_flags) = 0 THEN NULL ELSE l.quality_flags END,
  $batch_id, l.last_event_at
FROM lifecycle l
LEFT JOIN services s ON s.service_code = l.service_code;
