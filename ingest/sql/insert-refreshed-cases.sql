-- The batch's refreshed, placed cases (temp table `batch_cases`, refreshed-cases-placed.sql) into
-- `cases`, inside the batch's transaction, after refresh-cases-delete.sql removed their old rows.
INSERT INTO cases BY NAME SELECT * FROM batch_cases;
