-- The cases a batch touched (every case with an event in temp table `new_events`) → temp table
-- `refresh_all`, with whether the warehouse held the case before and where it was placed then:
-- a case whose point and area name did not change keeps its areas and H3 cells without a lookup.
-- ingest/refresh-cases.ts rebuilds them a slice at a time (`refresh_targets`, slice-targets.sql).
CREATE OR REPLACE TEMP TABLE refresh_all AS
SELECT t.case_id, c.case_id IS NOT NULL AS existed,
       c.lat AS old_lat, c.lon AS old_lon, c.area_name AS old_area_name,
       c.area_id AS old_area_id, c.h3_r7 AS old_h3_r7, c.h3_r8 AS old_h3_r8, c.h3_r9 AS old_h3_r9
FROM (SELECT DISTINCT case_key AS case_id FROM new_events) t
LEFT JOIN cases c ON c.case_id = t.case_id;
