-- The cases a batch touched (every case with an event in temp table `new_events`) → temp table
-- `refresh_all`, with whether the warehouse held the case before and where it was placed then:
-- a case whose point and area name did not change keeps its areas and H3 cells without a lookup.
-- ingest/refresh-cases.ts rebuilds them a slice at a time: a case belongs to the slice of rows
-- ($rows_per_slice of the file's) its first row is in, so a slice's new cases find their events
-- in its own rows of `new_events` — except a case `spans` slices (listed again further down the
-- file), whose events are set apart once (slice-strays.sql). The cases held before are read from
-- `held_cases` (ingest/events-sql.ts), the batch's one pass over `cases`.
-- `one_row`: a case new to the warehouse whose events all come from one row of a flat file
-- ($one_row: a cases file without a trail), opened there, rebuilt from that row's opened event
-- alone (warehouse/models/refresh-cases.sql). (Every flat row has its opened event: a row without
-- an opening time is rejected. Were one ever to lack it, the case would be grouped, not lost.)
CREATE OR REPLACE TEMP TABLE refresh_all AS
SELECT t.case_id, t.slice, t.spans, c.case_id IS NOT NULL AS existed,
       $one_row::BOOLEAN AND t.first_row = t.last_row AND t.opened AND c.case_id IS NULL AS one_row,
       c.lat AS old_lat, c.lon AS old_lon, c.area_name AS old_area_name,
       c.area_id AS old_area_id, c.h3_r7 AS old_h3_r7, c.h3_r8 AS old_h3_r8, c.h3_r9 AS old_h3_r9
FROM (
  SELECT case_key AS case_id, min(row_number) AS first_row, max(row_number) AS last_row, bool_or(event_type = 'opened') AS opened,
         ((min(row_number) - 1) // $rows_per_slice::INTEGER)::INTEGER AS slice,
         (min(row_number) - 1) // $rows_per_slice::INTEGER <> (max(row_number) - 1) // $rows_per_slice::INTEGER AS spans
  FROM new_events GROUP BY case_key
) t
LEFT JOIN held_cases c ON c.case_id = t.case_id;
