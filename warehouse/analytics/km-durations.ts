// Each group's durations for Kaplan–Meier, the one way every analysis reads them (the KPIs, the
// public release's medians, the survival chart, the equity page's log-rank test): from the cases,
// or from the stored duration runs when they can stand in for them.
import type { Warehouse } from '../db.ts';
import type { DoubleArena } from '../double-arena.ts';
import { runsServe, type CaseSelection, type Dimension } from '../queries/case-predicates.ts';
import { buildKmDurationsQuery, buildKmNotEndedQuery, buildKmRunsQuery, type KmDuration } from '../queries/kpi-sql.ts';
import { DurationSort, SortedRemoval, SortedRunsMerge } from '../stats/sort-durations.ts';
import type { Pacer } from '../turns.ts';

type SqlRow = Record<string, unknown>;

/**
 * One group's Kaplan–Meier observations: its labels (`by`), the durations (seconds) of the cases
 * that ended by the as-of time and of those censored there, in `arena`. `endsSorted`: `ends` is
 * sorted already (only `censored` needs sorting).
 */
export type KmGroup = SqlRow & { ends: Float64Array; censored: Float64Array; endsSorted?: boolean };

/**
 * Each group's durations, as buildKmDurationsQuery defines them (kmTerms: which cases count, which
 * ended, censored at the as-of time). From the cases; or, when the stored duration runs can stand
 * in for them (runsServe: days cut in the window's zone, the runs complete, no areas), the ended
 * durations from the runs (buildKmRunsQuery), each group's runs merged, less
 * those that had not ended by the as-of time, and only the cases not ended read from the cases
 * (buildKmNotEndedQuery): the same numbers, to the bit, without listing every case's duration
 * again. Groups with no counted case are left out, as the query leaves them out.
 */
export async function listKmDurations(
  wh: Warehouse, by: readonly Dimension[], sel: CaseSelection, duration: KmDuration, o: { arena: DoubleArena; pacer: Pacer },
): Promise<KmGroup[]> {
  const { arena, pacer } = o;
  if (!runsServe(sel, by)) {
    const q = buildKmDurationsQuery(by, sel, duration);
    return wh.allWithLists(q.sql, q.params, ['ends', 'censored'] as const, { arena });
  }
  const r = buildKmRunsQuery(by, sel, duration);
  const runs = await wh.allWithLists(r.sql, r.params, ['ends'] as const, { arena });
  const n = buildKmNotEndedQuery(by, sel, duration);
  const notEnded = await wh.allWithLists(n.sql, n.params, ['censored', 'retracted'] as const, { arena });
  const none = new Float64Array(0);
  const groups = new Map<string, { dims: SqlRow; runs: Float64Array[]; retracted: Float64Array; censored: Float64Array }>();
  const group = (row: SqlRow) => {
    const k = JSON.stringify(by.map((d) => row[d]));
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { dims: row, runs: [], retracted: none, censored: none }));
    return g;
  };
  for (const row of runs) group(row).runs.push(row.ends);
  for (const row of notEnded) Object.assign(group(row), { retracted: row.retracted, censored: row.censored });
  const out: KmGroup[] = [];
  for (const g of groups.values()) {
    // The group's runs merged (each is sorted), less what had not ended by the as-of time.
    const merged = new SortedRunsMerge(g.runs, (n) => arena.alloc(n));
    await pacer.run(merged);
    await pacer.run(new DurationSort(g.retracted));
    const ended = new SortedRemoval(merged.out!, g.retracted);
    await pacer.run(ended);
    if (ended.out!.length === 0 && g.censored.length === 0) continue;
    const row: SqlRow = {};
    for (const d of by) row[d] = g.dims[d];
    out.push(Object.assign(row, { ends: ended.out!, censored: g.censored, endsSorted: true }));
  }
  return out;
}
