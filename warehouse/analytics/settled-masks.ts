// The settled cases' stored masks (kpi-sql.ts settledMasksSql, migration 015): computed when a
// batch builds its cases (ingest/refresh-cases.ts) and wherever a case's due time changes
// (ingest/calendars.ts, ingest/load.ts), and all at once when the SQL that computes them changes
// (ensureSettledMasks: a new predicate in the registry changes its digest). The KPI table reads
// them only while the digest stored beside them is this code's (settledMasksCurrent).
import type { Params, Warehouse } from '../db.ts';
import { SETTLED_COLUMNS, settledMasksSql } from '../queries/kpi-sql.ts';

/** The digest of this code's settled-mask SQL. */
export const settledMasksDigest = () => settledMasksSql('SELECT 1').digest;

/** Whether every case's stored masks were computed by this code's SQL (else the KPI table evaluates every case). */
export async function settledMasksCurrent(wh: Warehouse): Promise<boolean> {
  const rows = await wh.all<{ digest: string }>('SELECT digest FROM settled_masks');
  return rows.length === 1 && rows[0].digest === settledMasksDigest();
}

/**
 * Recomputes the stored masks of the cases `where` selects (a condition on `cases c`, its values
 * bound in `params`; default: every case). Part of the caller's transaction, if it has one.
 */
export async function refreshSettledMasks(wh: Warehouse, where = 'true', params: Params = {}): Promise<void> {
  const q = settledMasksSql(`SELECT c.* EXCLUDE (${SETTLED_COLUMNS.join(', ')}) FROM cases c WHERE ${where}`);
  await wh.run(
    `UPDATE cases SET ${SETTLED_COLUMNS.map((c) => `${c} = m.${c}`).join(', ')}
     FROM (SELECT case_id, ${SETTLED_COLUMNS.join(', ')} FROM (${q.sql})) m
     WHERE m.case_id = cases.case_id`,
    { ...q.params, ...params },
  );
}

/**
 * Makes the stored masks this code's: when the digest beside them is another's (or none), every
 * case's are recomputed and the digest replaced, in one transaction. A warehouse without cases
 * only records the digest. Returns whether anything was recomputed. For the writer: run before a
 * batch (ingest/load.ts) and when the server starts.
 */
export async function ensureSettledMasks(wh: Warehouse): Promise<boolean> {
  if (await settledMasksCurrent(wh)) return false;
  const any = await wh.one<{ n: boolean }>('SELECT EXISTS (SELECT 1 FROM cases) AS n');
  await wh.transaction(async () => {
    if (any?.n) await refreshSettledMasks(wh);
    await wh.run('DELETE FROM settled_masks');
    await wh.run('INSERT INTO settled_masks VALUES ($digest, now())', { digest: settledMasksDigest() });
  });
  return Boolean(any?.n);
}
