-- One slice of the touched cases (temp table `refresh_all`) → temp table `refresh_targets`: the
-- cases whose first row is in slice $slice. Every step of a rebuild (events read back,
-- lifecycle, places, insert) then works on this slice only, so its hash tables stay the size of
-- a slice however large the file. A case is in exactly one slice.
CREATE OR REPLACE TEMP TABLE refresh_targets AS
SELECT * EXCLUDE (slice) FROM refresh_all WHERE slice = $slice::INTEGER;
