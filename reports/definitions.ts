// Report definitions: what a report contains, as data (headings, tables, charts with their text
// alternative, paragraphs). The renderers (PDF, CSV) know nothing of KPIs; every figure here comes
// from the warehouse's analyses — computeOverview / computeKpis / computeFindings for staff,
// publicKpis (disclosure control) for the public — so a report never defines a measure itself.
import type { TopLevelSpec } from 'vega-lite';
import type { Warehouse } from '../warehouse/db.ts';
import type { CaseFilter } from '../warehouse/queries/case-predicates.ts';
import type { TargetsConfig } from '../warehouse/analytics/targets.ts';
import type { DisclosurePolicy } from '../warehouse/privacy/policy.ts';
import { formatHours } from '../warehouse/analytics/format.ts';
import { int, pct, pctOf } from '../dashboard/src/lib/format.ts';
import { buildStaffReport } from './content/staff.ts';
import { buildPublicReport } from './content/public.ts';

/** The sections a report holds, in this order. */
export type ReportView = 'summary' | 'services' | 'areas' | 'methodology';
export const REPORT_VIEWS: readonly ReportView[] = ['summary', 'services', 'areas', 'methodology'];

/** What a report shows: the contract the scheduler, the API and the CLI code against. */
export interface ReportSpec {
  id: string;
  title: string;
  views: ReportView[];
  /** warehouse/queries/case-predicates.ts: service, service_group, agency, channel, area. */
  filter: CaseFilter;
  area_kind?: string;
  /** The last whole week (Monday–Sunday) or month up to the newest request: windows follow the data. */
  period: 'week' | 'month';
  /** public: only disclosure-controlled figures (publicKpis), nothing case-level. */
  audience: 'staff' | 'public';
  /** The owner's agency scope (CaseScope); null = every agency. */
  agencies: string[] | null;
  /** The report's own IANA zone: its dates, "as of" and page footers. */
  timezone: string;
}

export interface ReportContext {
  jurisdiction: string;
  /** The jurisdiction's zone (the report's own is spec.timezone). */
  timezone: string;
  as_of?: string;
  /** targets.* of the configuration (default: targets.on_time 0.85). */
  targets?: TargetsConfig;
  /** display.min_denominator (default 20). */
  min_denominator?: number;
  /** disclosure.* for public reports (default: k 10, min_denominator 20). */
  disclosure?: DisclosurePolicy;
}

/**
 * A table column. `of` names the column holding a rate's or a median's denominator: a percentage
 * reads "70.9% of 955", and either reads "too few cases" under the minimum. `status` names a
 * column whose text (e.g. "suppressed") replaces the figure when set.
 */
export interface Column {
  key: string;
  label: string;
  format?: 'int' | 'hours' | 'percent' | 'percent0' | 'change' | 'instant';
  of?: string;
  status?: string;
  /** The column that names the row (its cells are row headers, TH scope Row). */
  row_header?: boolean;
}

/** A table: printed whole (split across pages, never cut) and written as one CSV file. */
export interface Table {
  /** File-name stem of its CSV (unique in the report). */
  name: string;
  caption: string;
  columns: Column[];
  rows: Record<string, unknown>[];
  /** Raw columns of the CSV (default: the printed columns, their keys as headers). */
  csv_columns?: Column[];
  note?: string;
}

export type Block =
  /** csv_only: written as a CSV file, not printed (the page states it otherwise, e.g. findings as sentences). */
  | { kind: 'table'; table: Table; csv_only?: boolean }
  | { kind: 'chart'; caption: string; spec: TopLevelSpec; alt: string; data?: Table }
  | { kind: 'paragraphs'; paragraphs: string[] }
  | { kind: 'list'; items: string[] };

export interface Section {
  heading: string;
  /** 2: a view (Summary, Services…); 3: one service or area in it. */
  level: 2 | 3;
  blocks: Block[];
  /** Start on a new page. */
  new_page?: boolean;
}

export interface ReportContent {
  id: string;
  title: string;
  subtitle: string;
  audience: 'staff' | 'public';
  as_of: string;
  /** The as-of time in the report's zone, e.g. "2026-11-15 23:22 EST". */
  as_of_local: string;
  /** The report's zone. */
  timezone: string;
  from: string;
  to: string;
  /** Label for file names: the period covered. */
  period: string;
  /** The first page's facts: period, filters, scope, data as of… */
  facts: { label: string; value: string }[];
  /** display.min_denominator (staff) or disclosure.min_denominator (public). */
  min_denominator: number;
  sections: Section[];
  /** The services table's raw rows (what the weekly summary's single CSV carried). */
  csv: { columns: Column[]; rows: Record<string, unknown>[] };
}

/** Builds a report's content from the warehouse, for its spec (views, filters, scope, period, zone). */
export async function buildReport(wh: Warehouse, spec: ReportSpec, ctx: ReportContext): Promise<ReportContent> {
  const views = REPORT_VIEWS.filter((v) => spec.views.includes(v));
  if (views.length === 0) throw new Error(`report "${spec.id}" has no views (views: ${REPORT_VIEWS.join(', ')})`);
  const s = { ...spec, views };
  return spec.audience === 'public' ? buildPublicReport(wh, s, ctx) : buildStaffReport(wh, s, ctx);
}

/** The reports every installation has (the report's zone defaults to the jurisdiction's). */
export const BUILT_IN_REPORTS: Record<string, Omit<ReportSpec, 'timezone'> & { description: string }> = {
  'weekly-summary': {
    id: 'weekly-summary',
    title: 'Weekly service summary',
    description: 'The last whole week of requests (Monday–Sunday, local time): headline figures against the week before and the targets, findings, every service and every area, and how the figures are defined.',
    views: ['summary', 'services', 'areas', 'methodology'],
    filter: {},
    period: 'week',
    audience: 'staff',
    agencies: null,
  },
  'monthly-public': {
    id: 'monthly-public',
    title: 'Monthly public summary',
    description: 'The last whole month, published figures only (disclosure control: small counts suppressed, rates over too few cases withheld).',
    views: ['summary', 'services', 'areas', 'methodology'],
    filter: {},
    period: 'month',
    audience: 'public',
    agencies: null,
  },
};

/** @deprecated the scheduler's old shape: a built-in report by id, in the jurisdiction's zone. Use buildReport. */
export interface ReportDefinition {
  id: string;
  title: string;
  description: string;
  build(wh: Warehouse, ctx: ReportContext): Promise<ReportContent>;
}

export const REPORTS: Record<string, ReportDefinition> = Object.fromEntries(
  Object.values(BUILT_IN_REPORTS).map((b) => [b.id, { id: b.id, title: b.title, description: b.description, build: (wh: Warehouse, ctx: ReportContext) => buildReport(wh, { ...b, timezone: ctx.timezone }, ctx) }]),
);

export function getReport(id: string): ReportDefinition {
  const def = Object.hasOwn(REPORTS, id) ? REPORTS[id] : undefined;
  if (!def) throw new Error(`Unknown report "${id}". Reports: ${Object.keys(REPORTS).join(', ')}`);
  return def;
}

const FORMATS = new Map<string, Intl.DateTimeFormat>();
/** One formatter per zone: building one costs more than formatting thousands of instants with it. */
function zoneFormat(timezone: string): Intl.DateTimeFormat {
  let f = FORMATS.get(timezone);
  if (!f) FORMATS.set(timezone, (f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })));
  return f;
}

const QUARTER_HOUR = 900_000;
const OFFSETS = new Map<string, Map<number, number>>();
/**
 * The zone's offset from UTC (minutes) at an instant. Offsets change only on quarter-hour
 * boundaries, so one Intl lookup serves every instant of the same quarter hour: a million-row
 * CSV asks Intl a few thousand times, not a million.
 */
function offsetAt(ms: number, timezone: string): number {
  let byZone = OFFSETS.get(timezone);
  if (!byZone) OFFSETS.set(timezone, (byZone = new Map()));
  const q = Math.floor(ms / QUARTER_HOUR);
  let off = byZone.get(q);
  if (off === undefined) {
    const p = Object.fromEntries(zoneFormat(timezone).formatToParts(new Date(q * QUARTER_HOUR)).map((x) => [x.type, x.value]));
    // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
    const local = new Date(0);
    local.setUTCFullYear(+p.year, +p.month - 1, +p.day);
    local.setUTCHours(+p.hour, +p.minute, +p.second, 0);
    off = Math.round((local.getTime() - q * QUARTER_HOUR) / 60_000);
    if (byZone.size > 100_000) byZone.clear();
    byZone.set(q, off);
  }
  return off;
}

/** 00 to 99, written once. */
const TWO = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));

/**
 * An instant as ISO 8601 with the offset of `timezone` at that instant: 2026-11-15T23:22:05-05:00.
 * The local day from the day count by integer arithmetic (H. Hinnant's civil_from_days), not
 * through a Date and its getters: an export's instant column is a million of these (1.2–1.6 µs
 * each that way, most of writing the reports' bench CSV).
 */
export function isoInZone(instant: string, timezone: string): string {
  const ms = Date.parse(instant);
  if (!Number.isFinite(ms)) return instant;
  const offset = offsetAt(ms, timezone);
  // No zone is a day off UTC: an offset that is (Intl's years before the common era) is not written.
  if (!(Math.abs(offset) < 1440)) return instant;
  const local = Math.floor(ms / 1000) + offset * 60;
  const days = Math.floor(local / 86_400);
  const secs = local - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const a = Math.abs(offset);
  return `${year}-${TWO[month]}-${TWO[day]}T${TWO[Math.floor(secs / 3600)]}:${TWO[Math.floor((secs % 3600) / 60)]}:${TWO[secs % 60]}${offset < 0 ? '-' : '+'}${TWO[Math.floor(a / 60)]}:${TWO[a % 60]}`;
}

/**
 * A cell as printed, by the dashboard's rules (dashboard/src/lib/format.ts, warehouse/analytics/
 * format.ts): hours under 48 h then days, a percentage with its denominator, "too few cases"
 * under the minimum, a status (suppressed, not reached) in place of the figure.
 */
export function formatCell(row: Record<string, unknown>, col: Column, min: number): string {
  const status = col.status ? row[col.status] : undefined;
  if (typeof status === 'string' && status) return status;
  const value = row[col.key];
  const den = col.of ? row[col.of] : undefined;
  const n = typeof value === 'number' && Number.isFinite(value) ? value : null;
  switch (col.format) {
    case 'int':
      return int(n);
    case 'hours':
      return typeof den === 'number' && den < min ? 'too few cases' : formatHours(n);
    case 'percent':
      return col.of ? pctOf(n, typeof den === 'number' ? den : 0, min) : pct(n);
    case 'percent0':
      return n === null ? '—' : `${Math.round(n * 100)}%`;
    case 'instant':
      return value === null || value === undefined ? '—' : String(value);
    default:
      // An empty text stays empty (nothing to say); a missing one is "—" (no figure).
      return value === null || value === undefined ? '—' : String(value);
  }
}
