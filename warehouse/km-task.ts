// One group's Kaplan–Meier summary from its unsorted durations, at once: what a KM worker
// (km-worker.mjs) does for each group of its job. The same sort (DurationSort) and walk
// (SortedKmWalk) as the calling thread's stepwise path in kpis.ts (a small table's), so the
// figures are the same bits whichever thread computes them.
import { sortDurations } from './stats/sort-durations.ts';
import { kmSummaryOfSorted, type KmStatistic, type KmSummary } from './stats/kaplan-meier.ts';

/** A group's durations: ended, and censored at the as-of time. Sorted in place. */
export interface KmTask {
  ends: Float64Array;
  censored: Float64Array;
  wanted: readonly KmStatistic[];
}

export function summariseTask(t: KmTask): KmSummary {
  sortDurations(t.ends);
  sortDurations(t.censored);
  return kmSummaryOfSorted(t.ends, t.censored, t.wanted);
}
