-- Local days stored with each case: the day it opened and the day it was first closed, in the
-- jurisdiction's time zone (`day_zone` says which). Cutting days, weeks and months from a stored
-- DATE instead of converting every timestamp to local time per row made a KPI table several
-- times faster (the conversion was most of a window filter's cost). Analyses use them only when
-- `day_zone` is the zone they cut in (a configured zone that differs from the data's converts per
-- row, as before); the loader fills them after each batch (models/refresh-local-days.sql).
ALTER TABLE cases ADD COLUMN opened_day DATE;
ALTER TABLE cases ADD COLUMN closed_day DATE;
ALTER TABLE cases ADD COLUMN day_zone VARCHAR;
UPDATE cases SET opened_day = (opened_at AT TIME ZONE j.timezone)::DATE, closed_day = (closed_at AT TIME ZONE j.timezone)::DATE, day_zone = j.timezone
FROM (SELECT timezone FROM jurisdiction LIMIT 1) j;
