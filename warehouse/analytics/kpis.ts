// Service KPIs as DESIGN.md defines them, computed in DuckDB from the measure registry over the
// shared case predicates; Kaplan–Meier in TypeScript (stats/kaplan-meier.ts, R's rules). Each
// cohort leaves DuckDB in parts (one row per group and combination of the measures' predicates,
// kpi-sql.ts), folded into one row per group here (cohort-parts.ts); the opened cohort's parts
// carry each duration's values, as arrays of numbers (and the count of those of zero), sorted here.
import { TooManyRowsError, type Warehouse } from '../db.ts';
import { buildBacklogPartsQuery, buildClosedPartsQuery, buildKmDurationsQuery, buildOpenedPartsQuery, KM_DURATIONS, type KmDuration } from '../queries/kpi-sql.ts';
import { appliedFilter, compareLabels, isPeriod, type CaseFilter, type CaseScope, type CaseSelection, type CaseWindow, type Dimension } from '../queries/case-predicates.ts';
import { measure, MEASURES, type DurationMeasure, type Measure, type MeasureValues } from '../queries/measures.ts';
import { SortedKmWalk, type KmSummary } from '../stats/kaplan-meier.ts';
import { GroupDurationsSort, GroupScatter, TaggedRunsSort } from '../stats/sort-durations.ts';
import { DoubleArena, listsTogether } from '../double-arena.ts';
import { foldCohortParts, type FoldedGroup } from './cohort-parts.ts';
import { KM_INLINE_VALUES, kmWorkersUp, summariseOnWorkers } from '../km-workers.ts';
import type { KmTask } from '../km-task.ts';
import { checkCellBudget, resolveSelection } from './dimensions.ts';
import { mapInTurns, Pacer, VALUES_PER_TURN } from '../turns.ts';

export { dataAsOf, resolveWindow, WindowError } from './window.ts';

/** One group's dimensions (periods labelled by their first local day; a week starts on Monday) and every measure. */
export type KpiRow = Partial<Record<Dimension, string>> & MeasureValues;

export interface KpiResult {
  as_of: string;
  from: string;
  to: string;
  timezone: string;
  /** The area kind the `area` dimension and filter refer to. */
  area_kind: string;
  by: Dimension[];
  /** The filters applied (only those given). */
  filter: CaseFilter;
  rows: KpiRow[];
}

/** Hours from seconds, unrounded: every surface shows the same number; displays round. */
const hours = (seconds: number | null) => (seconds === null ? null : seconds / 3600);

type SqlRow = Record<string, unknown>;

const REGISTRY = MEASURES as readonly Measure[];

const NO_SUMMARY: KmSummary = { n: 0, events: 0, median: null, median_lower: null, median_upper: null, p90: null };


/**
 * Kaplan–Meier summaries per group, read by R's rules straight off each group's durations (the
 * opened cohort's parts, foldCohortParts), put together (listsTogether), sorted (DurationSort) and
 * walked (SortedKmWalk): the reference implementation's arithmetic, to the bit. A table with many
 * durations (a large city's weeks) is sorted and walked on worker threads, the machine's other
 * cores (km-workers.ts); a small one here, in steps of the event loop, and so is a large one while
 * the workers cannot start. A group none of whose cases a duration counts has no summary
 * (NO_SUMMARY), as before the parts. The copies put together are given back once the groups are
 * summarised (the parts' own lists are the caller's).
 */
async function kmByGroup(groups: ReadonlyMap<string, FoldedGroup>) {
  const summaries = new Map<string, KmSummary>();
  const pacer = new Pacer(VALUES_PER_TURN);
  const arena = new DoubleArena();
  try {
    const keys: string[] = [];
    const tasks: KmTask[] = [];
    let values = 0;
    for (const duration of KM_DURATIONS) {
      // Only the quantiles the registry reads for this duration (time to first response: its median).
      const wanted = REGISTRY.flatMap((m) => (m.kind === 'km' && m.duration === duration ? [m.statistic] : []));
      for (const [k, g] of groups) {
        const lists = g.lists.get(duration);
        if (!lists || (lists.ends.length === 0 && lists.censored.length === 0 && lists.zeroEnds === 0 && lists.zeroCensored === 0)) continue;
        const task = {
          ends: await listsTogether(lists.ends, arena, pacer, lists.zeroEnds),
          censored: await listsTogether(lists.censored, arena, pacer, lists.zeroCensored),
          wanted,
        };
        keys.push(`${duration}${k}`);
        tasks.push(task);
        values += task.ends.length + task.censored.length;
      }
    }
    // Workers that could not start (null) leave the durations as they were: summarised here then.
    const done = values >= KM_WORKERS.inlineBelow && kmWorkersUp() ? await summariseOnWorkers(tasks) : null;
    if (done) {
      keys.forEach((k, i) => summaries.set(k, done[i]));
    } else {
      for (const [i, task] of tasks.entries()) {
        await pacer.run(new GroupDurationsSort(task));
        const walk = new SortedKmWalk(task.ends, task.censored, task.wanted);
        await pacer.run(walk);
        summaries.set(keys[i], walk.summary());
      }
    }
  } finally {
    arena.release();
  }
  return (duration: KmDuration, groupKey: string) => summaries.get(`${duration}${groupKey}`) ?? NO_SUMMARY;
}

/**
 * From how many durations in a table they are sorted and walked on the workers (km-workers.ts);
 * a test sets it to 0 to send every table there.
 */
export const KM_WORKERS = { inlineBelow: KM_INLINE_VALUES };

export interface KpiOptions {
  /** The area kind of the `area` dimension and filter (default: the data's default kind). */
  area_kind?: string;
  /** The caller's scope (agencies). */
  scope?: CaseScope;
  /**
   * false: the Kaplan–Meier measures are not computed and come out null — for a caller that
   * needs only the counts and rates of a fine grouping and reads its durations pooled over
   * coarser ones (kmMeasureByGroupings). Default true.
   */
  durations?: boolean;
}

/**
 * KPIs per group of `by` (none: one overall row) for the window. A row has the opened cohort's
 * figures (cases opened in its period), the backlog at the as-of time and the closed cohort's
 * (cases first closed in its period); a group with only some of them gets zeros for the others.
 * Filters are checked against the data first (an unknown name is a 400). Rows come sorted by
 * their dimensions, naturally ("District 2" before "District 10").
 */
export async function computeKpis(wh: Warehouse, by: readonly Dimension[], window: CaseWindow, filter: CaseFilter = {}, opts: KpiOptions = {}): Promise<KpiResult> {
  const sel = await resolveSelection(wh, window, { filter, area_kind: opts.area_kind, scope: opts.scope });
  await checkCellBudget(wh, sel, by, `rows (one per ${by.join(' × ')})`);
  const key = (r: SqlRow) => JSON.stringify(by.map((d) => r[d]));
  // The answer's row cap (the API's readers have one) is counted on the groups the cohorts' parts
  // fold into (ReadOptions.partOf), while they are read: past it, a 413 saying what to narrow (the
  // cell budget, above, has already refused a grouping estimated far past it before any case was
  // read). Groups that only the closed cohort has are counted once it is in, after Kaplan–Meier.
  const cap = { maxRows: wh.limits.maxRows, what: by.length ? `rows (one per ${by.join(' × ')})` : 'rows', partOf: key };
  // A city that loads no survey answers or contacts (most 311 exports) skips matching them to the cases.
  const held = await wh.one<{ surveys: boolean; contacts: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM survey_responses) AS surveys, EXISTS (SELECT 1 FROM interactions) AS contacts');
  const surveys = Boolean(held?.surveys);
  const lists = new DoubleArena();
  try {
    // The opened cohort's counts and both durations' lists come from one scan, in parts.
    const q1 = buildOpenedPartsQuery(by, sel, { surveys, durations: opts.durations === false ? [] : KM_DURATIONS });
    const opened = await foldCohortParts(q1.layout, await wh.allWithLists(q1.sql, q1.params, q1.layout.durations.map((d) => d.column), { ...cap, arena: lists }), key);
    // The closed cohort is counted by DuckDB while Kaplan–Meier sorts and walks here.
    const q2 = buildClosedPartsQuery(by, sel, { contacts: Boolean(held?.contacts) });
    const closedParts = wh.all<SqlRow>(q2.sql, q2.params, cap);
    closedParts.catch(() => {}); // awaited below; a failure of Kaplan–Meier first must not leave it unhandled
    const km = opts.durations === false ? () => NO_SUMMARY : await kmByGroup(opened);
    // Summarised: the durations' memory goes back before the rest is read.
    lists.release();
    for (const g of opened.values()) g.lists.clear();
    const closed = await foldCohortParts(q2.layout, await closedParts, key);
    const groups = new Set([...opened.keys(), ...closed.keys()]).size;
    if (groups > cap.maxRows) throw new TooManyRowsError(cap.maxRows, cap.what);
    // Backlog at T is every case opened by T and not closed by T (DESIGN.md), however long ago it
    // opened. Rows cut by period keep the backlog of their own period's cases (that is aging by
    // cohort); rows that are not cut by period count the whole backlog.
    const periodless = !by.some(isPeriod);
    let backlog: Map<string, FoldedGroup> | null = null;
    if (periodless) {
      // Only the cases some backlog measure counts: a group none of whose cases is open has no backlog row (below).
      const q3 = buildBacklogPartsQuery(by, sel);
      backlog = await foldCohortParts(q3.layout, await wh.all<SqlRow>(q3.sql, q3.params, { partOf: key }), key);
    }
    return await kpiRows(window, sel, by, key, { opened, closed, backlog }, km);
  } finally {
    lists.release();
  }
}

/** The KPI rows from the folded cohorts: ratios, Kaplan–Meier measures and mixes computed per row, sorted by their dimensions. */
async function kpiRows(
  window: CaseWindow,
  sel: CaseSelection,
  by: readonly Dimension[],
  key: (r: SqlRow) => string,
  cohorts: { opened: Map<string, FoldedGroup>; closed: Map<string, FoldedGroup>; backlog: Map<string, FoldedGroup> | null },
  km: (duration: KmDuration, groupKey: string) => KmSummary,
): Promise<KpiResult> {
  const backlogRows = cohorts.backlog;
  const groups = new Map<string, { dims: SqlRow; opened?: SqlRow; closed?: SqlRow; backlog?: SqlRow }>();
  const group = (r: SqlRow) => {
    const k = key(r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { dims: r }));
    return g;
  };
  for (const g of cohorts.opened.values()) group(g.dims).opened = g.values;
  for (const g of cohorts.closed.values()) group(g.dims).closed = g.values;
  // A group with backlog but nothing opened or closed in the window still has a row: its backlog is real.
  for (const [k, g] of backlogRows ?? []) if (groups.has(k) || Number(g.values.backlog) > 0) group(g.dims).backlog = g.values;
  // The overall row exists even when nothing matched: zeros, not no answer.
  if (by.length === 0 && groups.size === 0) groups.set('[]', { dims: {} });

  // Built a few hundred rows per turn of the event loop: a table of thousands of rows is
  // hundreds of milliseconds of work, which must not hold up the server's other requests.
  const rows = await mapInTurns([...groups.entries()], ([k, g]) => {
    const source = (m: Measure) => (m.cohort === 'closed' ? g.closed : m.cohort === 'backlog' && backlogRows ? g.backlog : g.opened);
    // The row is built in place, dimensions first: spreading a wide object into a new one cost
    // about 0.4 ms a row in V8 (seconds of a blocked event loop for a table of a few thousand rows).
    const values: Record<string, unknown> = {};
    for (const d of by) values[d] = String(g.dims[d]);
    for (const m of REGISTRY) {
      if (m.kind === 'count') values[m.name] = Number(source(m)?.[m.name] ?? 0);
    }
    for (const m of REGISTRY) {
      if (m.kind === 'ratio') {
        const den = values[m.denominator] as number;
        values[m.name] = den > 0 ? ((values[m.numerator] as number) / den) * (m.scale ?? 1) : null;
      } else if (m.kind === 'km') {
        const s = km(m.duration, k);
        values[m.name] = hours(s[m.statistic]);
      } else if (m.kind === 'mix') {
        const total = values.opened as number;
        // fromEntries defines own properties, so a channel named like an Object builtin stays data.
        values[m.name] = Object.fromEntries(((source(m)?.[m.name] ?? []) as { key: string; value: string | number }[]).map((e) => [e.key, Number(e.value) / total]));
      }
    }
    return values as KpiRow;
  });
  rows.sort((a, b) => {
    for (const d of by) {
      const c = compareLabels(a[d] as string, b[d] as string);
      if (c !== 0) return c;
    }
    return 0;
  });
  return { as_of: window.as_of, from: window.from, to: window.to, timezone: window.timezone, area_kind: sel.area_kind, by: [...by], filter: appliedFilter(sel.filter), rows };
}

/**
 * One Kaplan–Meier measure of the registry for several groupings of the same cases at once, each
 * grouping a subset of `finest`'s dimensions: the finest grouping's durations are read and sorted
 * together once, and each coarser group is walked over its leaves' values in that order. A case is in
 * exactly one leaf (a case without an area is in "(no area)"), so a group's observations are
 * exactly those computeKpis(grouping) reads, in the order a sort of them would give: the figure
 * is computeKpis's to the bit. For a caller that wants one statistic over many
 * cuts (the public release: the total, groups, services and areas, each by period and over all
 * periods), one scan of the cases instead of one per cut.
 *
 * Returns, per grouping (its dimensions joined by ","), the measure (hours) keyed by the JSON of
 * the group's labels in the grouping's order; a group with no cases has no entry. The finest
 * grouping's size is the caller's to check (checkCellBudget; the public release counts it with
 * computeKpis first); the readers' row cap applies to its groups.
 */
export async function kmMeasureByGroupings(
  wh: Warehouse,
  measureName: string,
  finest: readonly Dimension[],
  groupings: readonly (readonly Dimension[])[],
  window: CaseWindow,
  filter: CaseFilter = {},
  opts: Omit<KpiOptions, 'durations'> = {},
): Promise<Map<string, Map<string, number | null>>> {
  const m = measure(measureName) as DurationMeasure | undefined;
  if (m?.kind !== 'km') throw new Error(`${measureName} is not a Kaplan–Meier measure`);
  for (const g of groupings) {
    const extra = g.filter((d) => !finest.includes(d));
    if (extra.length) throw new Error(`grouping ${g.join(' × ')} is not within ${finest.join(' × ')}`);
  }
  const sel = await resolveSelection(wh, window, { filter, area_kind: opts.area_kind, scope: opts.scope });
  const q = buildKmDurationsQuery(finest, sel, m.duration);
  const leaves = new DoubleArena();
  const sorts: TaggedRunsSort[] = [];
  const out = new Map<string, Map<string, number | null>>();
  try {
    const listed = await wh.allWithLists(q.sql, q.params, ['ends', 'censored'] as const, { arena: leaves });
    const pacer = new Pacer(VALUES_PER_TURN);
    // All the leaves' values sorted together once, each value noting its leaf (TaggedRunsSort);
    // each cut's groups are dealt their values from that order, so sorted (GroupScatter).
    // Copying each group's parts together and sorting them again, for each of the cuts, was most
    // of a large city's public release; sorting each leaf and merging them, most of the rest.
    const sortLeaves = async (runs: Float64Array[]) => {
      const sort = new TaggedRunsSort(runs);
      sorts.push(sort);
      await pacer.run(sort);
      return sort;
    };
    const ends = await sortLeaves(listed.map((l) => l.ends));
    const censored = await sortLeaves(listed.map((l) => l.censored));
    for (const grouping of groupings) {
      const groupOf = new Int32Array(listed.length);
      const keys: string[] = [];
      const index = new Map<string, number>();
      listed.forEach((leaf, i) => {
        const k = JSON.stringify(grouping.map((d) => String(leaf[d])));
        let g = index.get(k);
        if (g === undefined) index.set(k, (g = keys.push(k) - 1));
        groupOf[i] = g;
      });
      // The cut's groups' values, in memory given back once they are walked.
      const pooled = new DoubleArena();
      try {
        const deal = async (sorted: TaggedRunsSort, size: (leaf: (typeof listed)[number]) => number) => {
          const counts = new Array<number>(keys.length).fill(0);
          listed.forEach((leaf, i) => (counts[groupOf[i]] += size(leaf)));
          const outs = counts.map((n) => pooled.alloc(n));
          await pacer.run(new GroupScatter(sorted.values, sorted.tags, groupOf, outs));
          return outs;
        };
        const groupEnds = await deal(ends, (l) => l.ends.length);
        const groupCensored = await deal(censored, (l) => l.censored.length);
        const values = new Map<string, number | null>();
        for (const [g, k] of keys.entries()) {
          const walk = new SortedKmWalk(groupEnds[g], groupCensored[g], [m.statistic]);
          await pacer.run(walk);
          values.set(k, hours(walk.summary()[m.statistic]));
        }
        out.set(grouping.join(), values);
      } finally {
        pooled.release();
      }
    }
  } finally {
    leaves.release();
    for (const sort of sorts) sort.release();
  }
  return out;
}
