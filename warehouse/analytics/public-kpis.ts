// Public figures: requests and their service KPIs by service group or service, area and week or
// month, only ever through disclosure control (warehouse/privacy/). Built on the staff KPIs
// (computeKpis, the measure registry) so a published figure is the staff figure, withheld or
// rounded — never a second definition.
//
// The public cannot choose the window, the as-of time, filters or the area kind, and never gets
// service crossed with area: each release is one table — all requests split by service group →
// service and, separately, by area (of one kind), against every whole week of the last 26 or whole
// month of the last 12 — protected once with all its margins, and every table of
// /api/public/kpis and /api/public/trends is a slice of it. Letting callers move the window or
// filter would let them subtract two protected answers from each other; crossing service with area
// and time makes a three-way table of mostly tiny counts whose protection would have to withhold
// the totals too (README in privacy/).
import type { Warehouse } from '../db.ts';
import { computeKpis, kmMeasureByGroupings, type KpiRow } from './kpis.ts';
import { dataAsOf, requestSpan, resolveWindow } from './window.ts';
import { listDimensions, type Dimensions } from './dimensions.ts';
import { areaPhrase, formatP } from './format.ts';
import { compareLabels, NO_AREA, type CaseScope, type CaseWindow, type Dimension } from '../queries/case-predicates.ts';
import { measure, type Measure, type RatioMeasure } from '../queries/measures.ts';
import { mannKendall } from '../stats/mann-kendall.ts';
import { sensitiveServices } from './open311.ts';
import { benjaminiHochberg } from '../stats/hotspots.ts';
import { Axis } from '../privacy/cube.ts';
import { buildRelease, isSuppressed, sliceCells, type LeafRecord, type Release } from '../privacy/release.ts';
import {
  footnotes,
  roundHours,
  roundShare,
  rulesText,
  sensitiveServiceNames,
  type DisclosurePolicy,
  type Flag,
  type PublicPeriod,
} from '../privacy/policy.ts';

/** How many whole periods a release covers, ending with the last whole one of the data. */
export const PUBLIC_WINDOW_PERIODS: Record<PublicPeriod, number> = { week: 26, month: 12 };

/** The published count: requests opened in the period. */
export const PUBLIC_COUNT = 'opened';
/** Rates: ratio measures of the registry, each published over at least min_denominator of its denominator. */
export const PUBLIC_RATES = ['on_time_rate', 'csat_top2'] as const;
/** Durations: Kaplan–Meier statistics, published over at least min_denominator cases in the curve. */
export const PUBLIC_DURATIONS = ['median_hours_to_close'] as const;
export const PUBLIC_MEASURES = [PUBLIC_COUNT, ...PUBLIC_DURATIONS, ...PUBLIC_RATES] as const;
export type PublicMeasure = (typeof PUBLIC_MEASURES)[number];

const ratio = (name: string) => measure(name) as RatioMeasure;
/**
 * The additive counts a release carries: the published count, each rate's numerator and
 * denominator (from the registry), and what the duration's case base is made of — the cases in
 * the time-to-close curve are those opened, less cancelled ones and data errors (a case closed
 * before it was cancelled stays in the curve, so this base never overstates it).
 */
const FIELDS = [PUBLIC_COUNT, 'cancelled', 'excluded_data_errors', ...PUBLIC_RATES.flatMap((r) => [ratio(r).numerator, ratio(r).denominator])];
const durationBase = (v: Record<string, Float64Array>, cell: number) => v.opened[cell] - v.cancelled[cell] - v.excluded_data_errors[cell];

export const PUBLIC_DIMENSIONS = ['service_group', 'service', 'area', 'week', 'month'] as const;
export type PublicDimension = (typeof PUBLIC_DIMENSIONS)[number];
type RowsDimension = 'service_group' | 'service' | 'area';

export interface PublicRow {
  service_group?: string;
  service?: string;
  area?: string;
  week?: string;
  month?: string;
  opened: number | null;
  median_hours_to_close: number | null;
  on_time_rate: number | null;
  csat_top2: number | null;
  /** true: the count is withheld (and with it every other figure of the row). */
  suppressed: boolean;
  /** Why a figure is null, per measure (see footnotes). */
  flags: Partial<Record<PublicMeasure, Flag>>;
}

export interface PublicTable {
  by: PublicDimension[];
  rows: PublicRow[];
}

interface PublicRelease {
  window: CaseWindow;
  period: PublicPeriod;
  periods: string[];
  /** The first period, when the data starts inside it. */
  partial: string | null;
  area_kind: string;
  /** Services left out of every figure (disclosure.sensitive_services), and the scope that leaves them out. */
  sensitive: string[];
  scope: CaseScope;
  release: Release | null;
  /** All requests, split by service group → service (family "service") and by area (family "area"). */
  rows: Axis;
  time: Axis;
  /** The median of every cut a table can show, read together on first use (mediansBy). */
  medians: { all: Promise<Map<string, Map<string, number | null>>> | null };
}

export interface PublicOptions {
  period: PublicPeriod;
  policy: DisclosurePolicy;
  timezone: string;
  /** The one area kind the public gets (default: the data's default kind). */
  area_kind?: string | null;
}

const day = (s: string) => new Date(`${s}T00:00:00Z`);
const iso = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (d: Date, n: number) => new Date(d.getTime() + n * 86_400_000);
const addMonths = (d: Date, n: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));

/**
 * The release's periods: up to N, ending with the last whole one up to the newest request (weeks
 * Monday to Sunday, months from the 1st). The first may be cut by the start of the data (an export
 * that begins on a Wednesday): it is kept, and named as partial so trends leave it out. Empty when
 * the data ends before a period does.
 */
export function publicPeriods(period: PublicPeriod, firstDay: string, lastDay: string): { periods: string[]; partial: string | null } {
  const n = PUBLIC_WINDOW_PERIODS[period];
  const first = day(firstDay);
  const last = day(lastDay);
  const starts: Date[] = [];
  if (period === 'week') {
    const end = addDays(last, -last.getUTCDay()); // the Sunday on or before
    for (let start = addDays(end, -7 * n + 1); start <= addDays(end, -6); start = addDays(start, 7)) starts.push(start);
  } else {
    const lastWholeMonth = addDays(last, 1).getUTCDate() === 1 ? addMonths(last, 0) : addMonths(last, -1);
    for (let m = addMonths(lastWholeMonth, -n + 1); m <= lastWholeMonth; m = addMonths(m, 1)) starts.push(m);
  }
  const periods = starts.filter((st) => day(periodEnd(period, iso(st))) >= first).map(iso);
  return { periods, partial: periods.length > 0 && day(periods[0]) < first ? periods[0] : null };
}

const periodEnd = (period: PublicPeriod, start: string) => iso(period === 'week' ? addDays(day(start), 6) : addDays(addMonths(day(start), 1), -1));

// A release is rebuilt only when the data changes: listDimensions returns the same object until
// a batch lands or areas are loaded, so releases are cached against it.
const cache = new WeakMap<Dimensions, Map<string, Promise<PublicRelease>>>();

async function publicRelease(wh: Warehouse, o: PublicOptions): Promise<PublicRelease> {
  const dims = await listDimensions(wh);
  let byKey = cache.get(dims);
  if (!byKey) cache.set(dims, (byKey = new Map()));
  const key = JSON.stringify([o.period, o.area_kind ?? null, o.timezone, o.policy]);
  let hit = byKey.get(key);
  if (!hit) {
    hit = buildPublicRelease(wh, dims, o);
    hit.catch(() => byKey!.delete(key));
    byKey.set(key, hit);
  }
  return hit;
}

async function buildPublicRelease(wh: Warehouse, dims: Dimensions, o: PublicOptions): Promise<PublicRelease> {
  const areaKind = o.area_kind ?? dims.area_kinds.find((k) => k.default)?.kind ?? 'source';
  const asOf = (await dataAsOf(wh)) ?? new Date().toISOString();
  const span = await requestSpan(wh, asOf, o.timezone);
  const { periods, partial } = span.first_day && span.last_day ? publicPeriods(o.period, span.first_day, span.last_day) : { periods: [], partial: null };
  const sensitiveNames = sensitiveServiceNames(o.policy, dims.services);
  const rows = new Axis('rows', 'All requests');
  const time = Axis.flat(o.period, periods, 'All periods');
  const base = { period: o.period, periods, partial, area_kind: areaKind, rows, time, medians: { all: null } };
  if (periods.length === 0) return { ...base, window: { from: '', to: '', as_of: asOf, timezone: o.timezone }, sensitive: [], scope: {}, release: null };
  const window = await resolveWindow(wh, { from: periods[0], to: periodEnd(o.period, periods[periods.length - 1]), as_of: asOf }, o.timezone);
  // Sensitive services are left out of every public figure, totals included, by name and by code
  // — resolved exactly as Open311 resolves them, so nothing Open311 hides is counted here.
  const sens = await sensitiveServices(wh, o.policy);
  const sensitive = dims.services.filter((sv) => sensitiveNames.has(sv.name) || (sv.code !== null && sens.codes.includes(sv.code))).map((sv) => sv.name);
  const scope = { exclude_services: [...new Set([...sensitive, ...sens.names])].sort(), exclude_service_codes: [...sens.codes].sort() };
  // Counts and rates per leaf; the medians are read pooled over the cuts tables show (mediansBy).
  const kpis = await computeKpis(wh, LEAF_BY(o.period), window, {}, { area_kind: areaKind, scope, durations: false });

  // Every service the data knows (under its group) and every area of the kind, even with no requests in the window.
  const group = (g: string | null | undefined) => g ?? '(no service group)';
  const pairs = new Map<string, [string, string]>();
  for (const sv of dims.services) if (!scope.exclude_services.includes(sv.name) && !(sv.code !== null && sens.codes.includes(sv.code))) pairs.set(JSON.stringify([group(sv.service_group), sv.name]), [group(sv.service_group), sv.name]);
  for (const r of kpis.rows) pairs.set(JSON.stringify([r.service_group!, r.service!]), [r.service_group!, r.service!]);
  const services = [...pairs.values()].sort((a, b) => compareLabels(a[0], b[0]) || compareLabels(a[1], b[1]));
  for (const p of services) rows.node(p, 'service');
  const areaKeys = [...new Set(dims.areas.filter((a) => a.kind === areaKind).map((a) => a.name))].sort(compareLabels);
  for (const r of kpis.rows) if (!areaKeys.includes(r.area!)) areaKeys.push(r.area!);
  // "(no area)" after the named areas.
  areaKeys.sort((a, b) => Number(a === NO_AREA) - Number(b === NO_AREA) || compareLabels(a, b));
  for (const a of areaKeys) rows.node([a], 'area');

  const records: LeafRecord[] = kpis.rows.map((r: KpiRow) => {
    const s = rows.find([r.service_group!, r.service!], 'service')!;
    const a = rows.find([r.area!], 'area')!;
    const t = time.find([r[o.period]!]);
    if (t === undefined) throw new Error(`public release: period ${r[o.period]} is outside ${periods[0]}…${periods[periods.length - 1]}`);
    return { leaves: [[s, a], t], fields: Object.fromEntries(FIELDS.map((f) => [f, Number(r[f as keyof KpiRow] ?? 0)])) };
  });
  const release = await buildRelease({ axes: [rows, time], records, countField: PUBLIC_COUNT, fields: FIELDS, k: o.policy.k });
  return { ...base, window, sensitive: [...new Set(sensitive)].sort(), scope, release };
}

/** The rows nodes of a table's rows dimension (none: the total). */
function rowsNodes(pr: PublicRelease, d: RowsDimension | null): number[] {
  if (d === null) return [0];
  return d === 'area' ? pr.rows.atDepth(1, 'area') : pr.rows.atDepth(d === 'service' ? 2 : 1, 'service');
}

/** The release's leaf: every cell of every table is a sum of these. */
const LEAF_BY = (period: PublicPeriod): Dimension[] => ['service_group', 'service', 'area', period];
/** The cuts a table's cells can be: the total, service groups, services or areas, by period or over all periods. */
const MEDIAN_CUTS = (period: PublicPeriod): Dimension[][] =>
  [[], ['service_group'], ['service_group', 'service'], ['area']].flatMap((by) => [by as Dimension[], [...by, period] as Dimension[]]);

/**
 * The staff KPIs' median time to close for one cut, keyed by its labels. All cuts are read
 * together, from one read of the leaves' durations (kmMeasureByGroupings: computeKpis's figure
 * to the bit), the first time a table needs one: eight scans of the cases were most of the time
 * of a first public page on a large city.
 */
async function mediansBy(wh: Warehouse, pr: PublicRelease, by: Dimension[]): Promise<Map<string, number | null>> {
  if (!pr.medians.all) {
    const all = kmMeasureByGroupings(wh, 'median_hours_to_close', LEAF_BY(pr.period), MEDIAN_CUTS(pr.period), pr.window, {}, { area_kind: pr.area_kind, scope: pr.scope });
    // A failed read (a timeout on a busy server) is tried again by the next request, not kept.
    all.catch(() => {
      if (pr.medians.all === all) pr.medians.all = null;
    });
    pr.medians.all = all;
  }
  const cut = (await pr.medians.all).get(by.join());
  if (!cut) throw new Error(`public release: no median cut ${by.join(' × ')}`);
  return cut;
}

/**
 * The median time to close of one cell, for exactly the cases the cell counts: the staff KPIs
 * under the release's scope, which leaves the sensitive services out as the counts do.
 */
async function medianOf(wh: Warehouse, pr: PublicRelease, cell: number): Promise<{ value: number | null }> {
  const [r, t] = pr.release!.cube.coords(cell);
  const node = pr.rows.nodes[r];
  const periodBy: Dimension[] = t === 0 ? [] : [pr.period];
  const periodKey = t === 0 ? [] : [pr.time.nodes[t].key];
  const lookup = async (by: Dimension[], labels: string[]) => ({ value: (await mediansBy(wh, pr, [...by, ...periodBy])).get(JSON.stringify([...labels, ...periodKey])) ?? null });
  if (r === 0) return lookup([], []);
  if (node.family === 'service') return lookup(node.depth === 1 ? ['service_group'] : ['service_group', 'service'], node.path);
  return lookup(['area'], [node.key]);
}

/** One row of a public table: the cell's labels and its figures, each published or flagged. */
async function rowOf(wh: Warehouse, pr: PublicRelease, cell: number, policy: DisclosurePolicy): Promise<PublicRow> {
  const release = pr.release!;
  const { cube, values } = release;
  const [r, t] = cube.coords(cell);
  const node = pr.rows.nodes[r];
  const labels: Partial<Record<PublicDimension, string>> = {};
  if (node.family === 'service') {
    labels.service_group = node.path[0];
    if (node.depth === 2) labels.service = node.path[1];
  } else if (node.family === 'area') labels.area = node.key;
  if (t !== 0) labels[pr.period] = pr.time.nodes[t].key;
  const row: PublicRow = { opened: null, median_hours_to_close: null, on_time_rate: null, csat_top2: null, suppressed: false, flags: {} };
  if (isSuppressed(release, cell)) {
    // A withheld count withholds the whole row: a rate or a flag beside it would bound the count.
    row.suppressed = true;
    for (const m of PUBLIC_MEASURES) row.flags[m] = 'suppressed';
    return { ...labels, ...row };
  }
  row.opened = values.opened[cell];
  for (const name of PUBLIC_RATES) {
    const m = ratio(name);
    const den = values[m.denominator][cell];
    if (den < policy.min_denominator) row.flags[name] = 'too_few_cases';
    else row[name] = roundShare((values[m.numerator][cell] / den) * (m.scale ?? 1));
  }
  if (durationBase(values, cell) < policy.min_denominator) row.flags.median_hours_to_close = 'too_few_cases';
  else {
    const median = await medianOf(wh, pr, cell);
    if (median.value === null) row.flags.median_hours_to_close = 'not_reached';
    else row.median_hours_to_close = roundHours(median.value);
  }
  return { ...labels, ...row };
}

async function tableOf(wh: Warehouse, pr: PublicRelease, rowsBy: RowsDimension | null, withPeriod: boolean, policy: DisclosurePolicy): Promise<PublicTable> {
  const by: PublicDimension[] = [...(rowsBy ? [rowsBy] : []), ...(withPeriod ? [pr.period] : [])];
  if (!pr.release) return { by, rows: [] };
  const cells = sliceCells(pr.release, [rowsNodes(pr, rowsBy), withPeriod ? pr.time.atDepth(1) : [0]]);
  const rows: PublicRow[] = [];
  for (const c of cells) rows.push(await rowOf(wh, pr, c, policy));
  return { by, rows };
}

function measureInfo(policy: DisclosurePolicy) {
  return PUBLIC_MEASURES.map((name) => {
    const m = measure(name) as Measure;
    const base =
      m.kind === 'ratio'
        ? { denominator: m.denominator, min_denominator: policy.min_denominator, rounding: 'whole percentage' }
        : m.kind === 'km'
          ? { denominator: 'opened − cancelled − excluded_data_errors', min_denominator: policy.min_denominator, rounding: 'a tenth of an hour' }
          : { threshold: policy.k };
    return { name, label: m.label, unit: m.unit, definition: m.definition, ...base };
  });
}

export interface PublicMeta {
  as_of: string;
  timezone: string;
  area_kind: string;
  period: PublicPeriod;
  from: string | null;
  to: string | null;
  periods: string[];
  /** The first period when the data starts inside it (its counts cover only the days with data; trends leave it out). */
  partial_period: string | null;
  measures: ReturnType<typeof measureInfo>;
  disclosure: { k: number; min_denominator: number; sensitive_services: string[]; rules: string[]; suppressed_cells: number; cells: number };
  footnotes: ReturnType<typeof footnotes>;
}

function metaOf(pr: PublicRelease, policy: DisclosurePolicy): PublicMeta {
  const r = pr.release;
  let suppressed = 0;
  if (r) for (let i = 0; i < r.cube.size; i++) if (isSuppressed(r, i)) suppressed++;
  return {
    as_of: pr.window.as_of,
    timezone: pr.window.timezone,
    area_kind: pr.area_kind,
    period: pr.period,
    from: pr.periods.length ? pr.window.from : null,
    to: pr.periods.length ? pr.window.to : null,
    periods: pr.periods,
    partial_period: pr.partial,
    measures: measureInfo(policy),
    disclosure: { k: policy.k, min_denominator: policy.min_denominator, sensitive_services: pr.sensitive, rules: rulesText(policy), suppressed_cells: suppressed, cells: r?.cube.size ?? 0 },
    footnotes: footnotes(policy, pr.sensitive),
  };
}

/** Checks a public `by` (names already known): one of service_group/service, and a period matching the release's. */
export function checkPublicBy(by: readonly string[], period: PublicPeriod): string | null {
  const bad = by.find((d) => !(PUBLIC_DIMENSIONS as readonly string[]).includes(d));
  if (bad) return `by "${bad}" is not one of ${PUBLIC_DIMENSIONS.join(', ')}`;
  if (by.includes('service_group') && by.includes('service')) return 'by may name service_group or service, not both';
  const other = period === 'week' ? 'month' : 'week';
  if (by.includes(other)) return `by "${other}" does not match period "${period}"`;
  return null;
}

const rowsDimensions = (by: readonly PublicDimension[]) => by.filter((d): d is RowsDimension => d === 'service_group' || d === 'service' || d === 'area');

export interface PublicKpisResult extends PublicMeta {
  by: PublicDimension[];
  /**
   * The tables asked for and their margins, down to the overall total — all cells of one protected
   * release. Service and area are never crossed: by=service,area gives a table by service and one
   * by area, side by side.
   */
  tables: PublicTable[];
}

export async function publicKpis(wh: Warehouse, by: readonly PublicDimension[], o: PublicOptions): Promise<PublicKpisResult> {
  const pr = await publicRelease(wh, o);
  const rowsBy = rowsDimensions(by);
  const tables: PublicTable[] = [];
  for (const withPeriod of by.includes(o.period) ? [true, false] : [false]) {
    for (const r of [...rowsBy, null]) tables.push(await tableOf(wh, pr, r, withPeriod, o.policy));
  }
  return { ...metaOf(pr, o.policy), by: [...by], tables };
}

export interface PublicSeries {
  service_group?: string;
  service?: string;
  area?: string;
  periods: string[];
  opened: (number | null)[];
  suppressed: boolean[];
}

export interface PublicTrendFinding {
  service_group: string | null;
  service: string | null;
  area: string | null;
  direction: 'rising' | 'falling';
  /** Sen's slope: change in requests per period. */
  per_period: number;
  p: number;
  /** Benjamini–Hochberg over the series tested. */
  q: number;
  sentence: string;
}

export interface PublicTrendsResult extends PublicMeta {
  by: PublicDimension[];
  series: PublicSeries[];
  findings: PublicTrendFinding[];
  /** Series tested for a trend: only those with every period published (a test on withheld counts would leak them). */
  series_tested: number;
  series_not_tested: number;
}

export async function publicTrends(wh: Warehouse, by: readonly PublicDimension[], o: PublicOptions & { alpha?: number }): Promise<PublicTrendsResult> {
  const pr = await publicRelease(wh, o);
  const rowsBy = rowsDimensions(by);
  const series: PublicSeries[] = [];
  for (const r of rowsBy.length ? rowsBy : [null]) {
    const table = await tableOf(wh, pr, r, true, o.policy);
    const byKey = new Map<string, PublicSeries>();
    for (const row of table.rows) {
      const key = JSON.stringify([row.service_group, row.service, row.area]);
      let s = byKey.get(key);
      if (!s) {
        s = { ...(row.service_group !== undefined ? { service_group: row.service_group } : {}), ...(row.service !== undefined ? { service: row.service } : {}), ...(row.area !== undefined ? { area: row.area } : {}), periods: [], opened: [], suppressed: [] };
        byKey.set(key, s);
        series.push(s);
      }
      s.periods.push(row[o.period]!);
      s.opened.push(row.opened);
      s.suppressed.push(row.suppressed);
    }
  }
  // Whole periods only: a period cut by the start of the data would read as a rise.
  const whole = (s: PublicSeries) => (pr.partial && s.periods[0] === pr.partial ? { ...s, periods: s.periods.slice(1), opened: s.opened.slice(1), suppressed: s.suppressed.slice(1) } : s);
  const testable = series.map(whole).filter((s) => s.periods.length >= 8 && !s.suppressed.includes(true) && s.opened.some((x) => (x ?? 0) > 0));
  const tests = testable.map((s) => ({ s, r: mannKendall(s.opened as number[]) }));
  const q = benjaminiHochberg(tests.map((t) => t.r.p));
  const alpha = o.alpha ?? 0.05;
  const findings = tests
    .map((t, i) => ({ ...t, q: q[i] }))
    .filter((t) => t.q < alpha && t.r.trend !== 'no trend')
    .map(({ s, r, q: qi }): PublicTrendFinding => {
      const direction = r.slope > 0 ? 'rising' : 'falling';
      const size = Math.abs(r.slope);
      const amount = size >= 10 ? Math.round(size).toString() : size.toFixed(1);
      const what = `${s.service ?? s.service_group ?? 'All'} requests${s.area ? ` in ${areaPhrase(s.area, pr.area_kind)}` : ''}`;
      return {
        service_group: s.service_group ?? null,
        service: s.service ?? null,
        area: s.area ?? null,
        direction,
        per_period: r.slope,
        p: r.p,
        q: qi,
        sentence: `${what} have ${direction === 'rising' ? 'risen' : 'fallen'} by about ${amount} a ${o.period} over the ${s.periods.length} ${o.period}s from ${s.periods[0]} (${formatP(r.p)}).`,
      };
    })
    .sort((a, b) => a.q - b.q);
  return { ...metaOf(pr, o.policy), by: [...rowsBy], series, findings, series_tested: tests.length, series_not_tested: series.length - tests.length };
}

/** The release itself, for the disclosure audit (tests) and tooling: the cube, its values and its protection. */
export async function publicReleaseForAudit(wh: Warehouse, o: PublicOptions): Promise<{ release: Release | null; periods: string[]; partial: string | null; area_kind: string; sensitive: string[] }> {
  const pr = await publicRelease(wh, o);
  return { release: pr.release, periods: pr.periods, partial: pr.partial, area_kind: pr.area_kind, sensitive: pr.sensitive };
}
