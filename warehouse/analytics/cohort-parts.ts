// A cohort's parts (kpi-sql.ts buildOpenedPartsQuery, buildClosedPartsQuery: one row per group and
// combination of the measures' predicates) folded into one row per group: each count is the sum
// of the case counts of the group's parts whose mask has the measure's bit, sums are added, mixes
// added key by key, and each duration's lists kept per kind of observation for Kaplan–Meier.
import type { CohortPartsLayout, KmDuration } from '../queries/kpi-sql.ts';
import { compareAsDuckDb } from '../queries/case-predicates.ts';
import { nextTurn } from '../turns.ts';

type PartRow = Record<string, unknown>;

/** A group's figures, as one row of the per-measure aggregates would hold them. */
export interface FoldedGroup {
  /** The group's first part: its dimension values. */
  dims: PartRow;
  /** Counts and sums as numbers; each mix as [{ key, value }] in the order DuckDB's histogram gives (keys by their UTF-8 bytes). */
  values: Record<string, unknown>;
  /** Per duration, the lists of its parts' observations: ended by the as-of time, and censored there. */
  lists: Map<KmDuration, DurationLists>;
}

/** A group's observations of one duration: its parts' lists, and the durations of zero counted apart (not listed). */
export interface DurationLists {
  ends: Float64Array[];
  censored: Float64Array[];
  zeroEnds: number;
  zeroCensored: number;
}

/** Parts folded per turn of the event loop: a table of thousands of small groups is thousands of parts. */
const PARTS_PER_TURN = 500;

/**
 * Folds parts into groups by `key` (the group's dimension values), PARTS_PER_TURN per turn of the
 * event loop. Bits are read with 32-bit operators: cohortPartsQuery keeps a mask within 30 bits.
 */
export async function foldCohortParts(layout: CohortPartsLayout, parts: readonly PartRow[], key: (r: PartRow) => string): Promise<Map<string, FoldedGroup>> {
  const groups = new Map<string, FoldedGroup & { mixes: Map<string, Map<string, number>> }>();
  for (const [i, part] of parts.entries()) {
    if (i > 0 && i % PARTS_PER_TURN === 0) await nextTurn();
    const k = key(part);
    let g = groups.get(k);
    if (!g) {
      g = { dims: part, values: {}, lists: new Map(), mixes: new Map() };
      for (const c of layout.counts) g.values[c.name] = 0;
      for (const s of layout.sums) g.values[s.name] = 0;
      for (const m of layout.mixes) g.mixes.set(m, new Map());
      for (const d of layout.durations) g.lists.set(d.duration, { ends: [], censored: [], zeroEnds: 0, zeroCensored: 0 });
      groups.set(k, g);
    }
    const mask = Number(part.mask);
    const n = Number(part.n);
    for (const c of layout.counts) if (c.bit === null || (mask & (1 << c.bit)) !== 0) (g.values[c.name] as number) += n;
    for (const s of layout.sums) if (s.read) (g.values[s.name] as number) += Number(part[s.name] ?? 0);
    for (const m of layout.mixes) {
      const into = g.mixes.get(m)!;
      for (const e of (part[m] ?? []) as { key: string; value: string | number }[]) into.set(e.key, (into.get(e.key) ?? 0) + Number(e.value));
    }
    for (const d of layout.durations) {
      if ((mask & (1 << d.counted)) === 0) continue;
      const lists = g.lists.get(d.duration)!;
      const zeros = Number(part[d.zeros] ?? 0);
      if (mask & (1 << d.ended)) {
        lists.ends.push(part[d.column] as Float64Array);
        lists.zeroEnds += zeros;
      } else {
        lists.censored.push(part[d.column] as Float64Array);
        lists.zeroCensored += zeros;
      }
    }
  }
  let done = 0;
  for (const g of groups.values()) {
    if (++done % PARTS_PER_TURN === 0) await nextTurn();
    for (const [m, counts] of g.mixes) g.values[m] = [...counts.keys()].sort(compareAsDuckDb).map((k) => ({ key: k, value: counts.get(k)! }));
  }
  return groups;
}
