-- Each case's local opening and first-close day in zone $tz (migration 010): the rows a batch
-- (re)inserted, and every row when the warehouse's zone changed (a real city's first ingest
-- replacing the demo's). Rows already cut in $tz are not touched.
UPDATE cases
SET opened_day = (opened_at AT TIME ZONE $tz)::DATE,
    closed_day = (closed_at AT TIME ZONE $tz)::DATE,
    day_zone = $tz
WHERE day_zone IS DISTINCT FROM $tz;
