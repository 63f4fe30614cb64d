-- The refreshed cases of one slice (temp table `refreshed_cases`), placed: with the lookup's result
-- where there was one (temp table `place_results`, a row for every case in `place_targets`), else
-- the place the case already had (`refresh_targets`' old columns; a case new to the warehouse is
-- always looked up). One join, to the union of the two: joining `refresh_targets` and
-- `place_results` in turn cost a third more (0.8 s against 1.2 s per 500,000 cases, measured on the
-- bench's file). Each slice's rows are added to temp table `batch_cases` (ingest/refresh-cases.ts),
-- which the batch's transaction writes to `cases` in one statement (insert-refreshed-cases.sql):
-- complete rows, rather than inserted and then updated (an UPDATE of every row a large batch
-- inserted kept a copy of each in memory until the commit). The caller adds each settled case's
-- masks (settledMasksSql) and orders the rows by opening (opened_at, case_id): `cases` is stored
-- as its rows are written, and a window of days then reads only the row groups whose days it covers
-- (DuckDB skips the others by their min/max). A file in request order is stored in time order but
-- for a few cases at each seam between slices; a shuffled one in a sorted run per slice
-- (ingest/README.md, "Stored in order of opening").
WITH placed AS (
  SELECT case_id, area_id, h3_r7, h3_r8, h3_r9 FROM place_results
  UNION ALL
  SELECT t.case_id, t.old_area_id, t.old_h3_r7, t.old_h3_r8, t.old_h3_r9
  FROM refresh_targets t ANTI JOIN place_results p ON p.case_id = t.case_id
  WHERE t.existed
)
SELECT r.*, p.area_id, p.h3_r7, p.h3_r8, p.h3_r9
FROM refreshed_cases r
LEFT JOIN placed p ON p.case_id = r.case_id
