-- Stored masks of settled cases (issue 10): for each cohort of the KPI table, the bits of its
-- predicates for a case whose predicates can no longer change, and the time from which that holds
-- (warehouse/queries/kpi-sql.ts, settledMasksSql). NULL: not settled, or not computed yet; the
-- KPI table then evaluates the case's predicates itself. `settled_masks` records the digest of the
-- SQL the stored masks were computed with: masks under another digest are not read, and the
-- writer recomputes them (warehouse/analytics/settled-masks.ts).
ALTER TABLE cases ADD COLUMN opened_settled_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN opened_mask INTEGER;
ALTER TABLE cases ADD COLUMN closed_settled_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN closed_mask INTEGER;
CREATE TABLE settled_masks (digest VARCHAR NOT NULL, computed_at TIMESTAMPTZ NOT NULL);
