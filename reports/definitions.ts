// Report definitions: what a report contains, as data. Renderers (PDF, CSV) know nothing of KPIs.
import type { Warehouse } from '../warehouse/db.ts';
import { computeKpis } from '../warehouse/analytics/kpis.ts';
import { checkAsOf, dataAsOf, lastWholeWeek } from '../warehouse/analytics/window.ts';
import { formatHours } from '../warehouse/analytics/format.ts';
import { measure, methodology } from '../warehouse/queries/measures.ts';
import { buildTrendSpec, describeTrend, type TrendRow } from '../dashboard/src/lib/charts/trend-spec.ts';
import type { TopLevelSpec } from 'vega-lite';
import type { CaseFilter } from '../warehouse/queries/case-predicates.ts';

/** The sections a report holds, in this order. */
export type ReportView = 'summary' | 'services' | 'areas' | 'methodology';
export const REPORT_VIEWS: readonly ReportView[] = ['summary', 'services', 'areas', 'methodology'];

/** What a report shows: the contract the scheduler, the API and the CLI code against. */
export interface ReportSpec {
  id: string;
  title: string;
  views: ReportView[];
  filter: CaseFilter;
  area_kind?: string;
  /** The last whole week (Monday–Sunday) or month up to the newest request: windows follow the data. */
  period: 'week' | 'month';
  /** public: only disclosure-controlled figures, nothing case-level. */
  audience: 'staff' | 'public';
  /** The owner's agency scope; null = every agency. */
  agencies: string[] | null;
  /** The report's own IANA zone: its dates, "as of" and page footers. */
  timezone: string;
}

/** A table column; a percentage names the column holding its denominator (`of`), shown beside it. */
export interface Column { key: string; label: string; format?: 'int' | 'hours' | 'percent'; of?: string }

export type Section =
  | { kind: 'table'; heading: string; columns: Column[]; rows: Record<string, unknown>[]; note?: string }
  | { kind: 'chart'; heading: string; spec: TopLevelSpec; summary: string; columns: Column[]; rows: Record<string, unknown>[] }
  | { kind: 'text'; heading: string; paragraphs: string[] };

export interface ReportContent {
  id: string;
  /** The zone its dates are in. */
  timezone: string;
  title: string;
  subtitle: string;
  as_of: string;
  /** Label for file names: the period covered. */
  period: string;
  sections: Section[];
  /** The table that the CSV rendering of this report carries. */
  csv: { columns: Column[]; rows: Record<string, unknown>[] };
}

export interface ReportContext { jurisdiction: string; timezone: string; as_of?: string }

export interface ReportDefinition {
  id: string;
  title: string;
  description: string;
  build(wh: Warehouse, ctx: ReportContext): Promise<ReportContent>;
}

/** A report column for a registry measure: its label and unit come from the one definition. */
function measureColumn(name: string): Column {
  const m = measure(name);
  if (!m) throw new Error(`unknown measure ${name}`);
  const format: Column['format'] = m.unit === 'hours' ? 'hours' : m.unit === 'share' ? 'percent' : m.kind === 'count' ? 'int' : undefined;
  return { key: m.name, label: m.label, format, ...(m.kind === 'ratio' ? { of: m.denominator } : {}) };
}

const TABLE_MEASURES = ['opened', 'closed', 'median_hours_to_close', 'on_time_rate', 'pending', 'closed_without_due_time'];
const KPI_COLUMNS: Column[] = [{ key: 'service', label: 'Service' }, ...TABLE_MEASURES.map(measureColumn)];
const CSV_MEASURES = [...TABLE_MEASURES, 'on_time', 'on_time_denominator', 'median_hours_ci_lower', 'median_hours_ci_upper', 'p90_hours_to_close', 'cancelled', 'excluded_data_errors'];

/** The definitions of the measures a report shows, from the registry. */
function definitions(names: readonly string[]): string[] {
  const shown = new Set(names);
  return methodology().flatMap((c) => c.measures.filter((m) => shown.has(m.name)).map((m) => `${m.label}: ${m.definition}`));
}

/** The reports every installation has; a configured report may use any id but these. */
export const BUILT_IN_REPORTS: Record<string, Omit<ReportSpec, 'timezone'> & { description: string }> = {
  'weekly-summary': {
    id: 'weekly-summary',
    title: 'Weekly service summary',
    description: 'The last full week of requests (Monday–Sunday, local time): volume, Kaplan–Meier median time to close and on-time rate per service, with 12 weeks of volume.',
    views: ['summary', 'services', 'methodology'],
    filter: {},
    period: 'week',
    audience: 'staff',
    agencies: null,
  },
};

/** Builds a report's content from the warehouse, for its spec (filters, scope, period, zone). */
export async function buildReport(wh: Warehouse, spec: ReportSpec, ctx: ReportContext): Promise<ReportContent> {
  return buildWeekly(wh, spec, ctx);
}

const weeklySummary: ReportDefinition = {
  id: 'weekly-summary',
  title: 'Weekly service summary',
  description: BUILT_IN_REPORTS['weekly-summary'].description,
  build: (wh, ctx) => buildReport(wh, { ...BUILT_IN_REPORTS['weekly-summary'], timezone: ctx.timezone }, ctx),
};

async function buildWeekly(wh: Warehouse, spec: ReportSpec, rctx: ReportContext): Promise<ReportContent> {
  {
    const ctx = { ...rctx, timezone: spec.timezone };
    const opts = { area_kind: spec.area_kind, scope: { agencies: spec.agencies } };
    const asOf = (ctx.as_of && checkAsOf(ctx.as_of)) ?? (await dataAsOf(wh)) ?? new Date().toISOString();
    // The latest whole Monday–Sunday week up to the newest *request* by the as-of time: a close
    // months after the last request must not pick a week with no requests in it.
    const w = await lastWholeWeek(wh, asOf, ctx.timezone);
    const week = await computeKpis(wh, ['service'], { from: w.start, to: w.end, as_of: asOf, timezone: ctx.timezone }, spec.filter, opts);
    const trend = await computeKpis(wh, ['service', 'week'], { from: w.trend_start, to: w.end, as_of: asOf, timezone: ctx.timezone }, spec.filter, opts);
    const trendRows: TrendRow[] = trend.rows.map((r) => ({ week: r.week!, service: r.service!, opened: r.opened }));
    const totals = week.rows.reduce((t, r) => ({ opened: t.opened + r.opened, closed: t.closed + r.closed }), { opened: 0, closed: 0 });
    // Services with nothing opened or closed in the week (only an old backlog) are not rows of a weekly table.
    const rows = week.rows.filter((r) => r.opened > 0 || r.closed_in_period > 0).map((r) => ({ ...r }) as Record<string, unknown>);
    return {
      id: spec.id,
      timezone: ctx.timezone,
      title: `${spec.title}: ${ctx.jurisdiction}`,
      subtitle: `Week of ${w.start} to ${w.end} (${ctx.timezone}), the last whole week of requests. Data as of ${w.as_of_local} local time.`,
      as_of: asOf,
      period: `${w.start}_${w.end}`,
      sections: [
        {
          kind: 'table',
          heading: 'Key figures by service',
          columns: KPI_COLUMNS,
          rows,
          note: `${totals.opened.toLocaleString('en-US')} cases opened and ${totals.closed.toLocaleString('en-US')} of them closed by the as-of time.`,
        },
        {
          kind: 'chart',
          heading: 'Cases opened per week, last 12 weeks',
          spec: buildTrendSpec(trendRows, { width: 420, height: 220 }),
          summary: describeTrend(trendRows),
          columns: [{ key: 'week', label: 'Week starting' }, { key: 'service', label: 'Service' }, { key: 'opened', label: 'Opened', format: 'int' }],
          rows: trendRows as unknown as Record<string, unknown>[],
        },
        {
          kind: 'text',
          heading: 'How these figures are defined',
          paragraphs: [
            'Cases are counted in the week they were opened (opened cohort). Durations are in hours under 48 hours, else in days.',
            ...definitions(CSV_MEASURES),
          ],
        },
      ],
      csv: { columns: [{ key: 'service', label: 'service' }, ...CSV_MEASURES.map((n) => ({ key: n, label: n }))], rows },
    };
  }
}

export const REPORTS: Record<string, ReportDefinition> = { [weeklySummary.id]: weeklySummary };

export function getReport(id: string): ReportDefinition {
  const def = REPORTS[id];
  if (!def) throw new Error(`Unknown report "${id}". Reports: ${Object.keys(REPORTS).join(', ')}`);
  return def;
}

export function formatCell(value: unknown, format: Column['format'], denominator?: unknown): string {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return '–';
  if (format === 'int') return Number(value).toLocaleString('en-US');
  if (format === 'hours') return formatHours(Number(value));
  if (format === 'percent') return `${(Number(value) * 100).toFixed(1)}%${typeof denominator === 'number' ? ` of ${denominator.toLocaleString('en-US')}` : ''}`;
  return String(value);
}
