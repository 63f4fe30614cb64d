-- When the case last changed as far as we know: a later snapshot may only reopen or reassign a
-- case if its own update time is after this, so loading an older export never rewinds a case.
ALTER TABLE cases ADD COLUMN last_event_at TIMESTAMPTZ;
UPDATE cases SET last_event_at = e.t FROM (SELECT case_id, max(occurred_at) AS t FROM case_events GROUP BY 1) e WHERE e.case_id = cases.case_id;
