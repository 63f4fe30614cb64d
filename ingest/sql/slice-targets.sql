-- One slice of the touched cases (temp table `refresh_all`) → temp table `refresh_targets`: the
-- cases whose hash falls in slice $slice of $slices. Every step of a rebuild (events read back,
-- lifecycle, places, insert) then works on this slice only, so its hash tables stay the size of
-- a slice however large the file. A case is in exactly one slice.
CREATE OR REPLACE TEMP TABLE refresh_targets AS
SELECT * FROM refresh_all WHERE hash(case_id) % $slices::UBIGINT = $slice::UBIGINT;
