-- The refreshed cases of one slice (temp table `refreshed_cases`), placed: with the lookup's result
-- where there was one (temp table `place_results`), else the place the case already had. Each
-- slice's rows are added to temp table `batch_cases` (ingest/refresh-cases.ts), which the batch's
-- transaction writes to `cases` in one statement (insert-refreshed-cases.sql): complete rows,
-- rather than inserted and then updated (an UPDATE of every row a large batch inserted kept a
-- copy of each in memory until the commit). In order of opening: `cases` is stored as its rows are
-- written, and a window of days then reads only the row groups whose days it covers (DuckDB skips
-- the others by their min/max). A file in request order is stored in time order but for a few
-- cases at each seam between slices; a shuffled one in a sorted run per slice (ingest/README.md,
-- "Stored in order of opening").
SELECT r.*,
       CASE WHEN p.case_id IS NULL THEN t.old_area_id ELSE p.area_id END AS area_id,
       CASE WHEN p.case_id IS NULL THEN t.old_h3_r7 ELSE p.h3_r7 END AS h3_r7,
       CASE WHEN p.case_id IS NULL THEN t.old_h3_r8 ELSE p.h3_r8 END AS h3_r8,
       CASE WHEN p.case_id IS NULL THEN t.old_h3_r9 ELSE p.h3_r9 END AS h3_r9
FROM refreshed_cases r
JOIN refresh_targets t ON t.case_id = r.case_id
LEFT JOIN place_results p ON p.case_id = r.case_id
ORDER BY r.opened_at, r.case_id
