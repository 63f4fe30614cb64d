-- The refreshed cases that need a place lookup → temp table `place_targets` (ingest/places.ts):
-- new cases, and cases whose point or area name changed. The others keep the place they had.
CREATE OR REPLACE TEMP TABLE place_targets AS
SELECT r.case_id, r.lat, r.lon, r.area_name
FROM refreshed_cases r JOIN refresh_targets t ON t.case_id = r.case_id
WHERE NOT t.existed OR r.lat IS DISTINCT FROM t.old_lat OR r.lon IS DISTINCT FROM t.old_lon OR r.area_name IS DISTINCT FROM t.old_area_name;
