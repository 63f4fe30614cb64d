-- Removes the `cases` rows of the cases a batch touched that the warehouse held before (temp table
-- `refresh_all`, ingest/sql/refresh-targets.sql); refresh-cases.sql has built their new rows.
DELETE FROM cases WHERE case_id IN (SELECT case_id FROM refresh_all WHERE existed);
