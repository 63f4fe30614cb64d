-- The events of new cases listed in more than one slice of rows (temp table `refresh_all`,
-- `spans`) → temp table `refresh_strays`: read once here, so each slice's rebuild reads only its
-- own rows of `new_events` plus these (usually none: a flat export lists a case once).
CREATE OR REPLACE TEMP TABLE refresh_strays AS
SELECT n.* FROM new_events n SEMI JOIN (SELECT case_id FROM refresh_all WHERE spans AND NOT existed) s ON s.case_id = n.case_key;
