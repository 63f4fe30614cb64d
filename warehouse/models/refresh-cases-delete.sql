-- Rebuilds the `cases` rows of every case that has an event in batch $batch_id (incremental:
-- untouched cases are not read). Attributes come from the latest event that carries them.
DELETE FROM cases WHERE case_id IN (SELECT DISTINCT case_id FROM case_events WHERE batch_id = $batch_id);
