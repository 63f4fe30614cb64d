// Report definitions: what a report contains, as data. Renderers (PDF, CSV) know nothing of KPIs.
import type { Warehouse } from '../warehouse/db.ts';
import { computeKpis, dataAsOf } from '../warehouse/analytics/kpis.ts';
import { buildTrendSpec, describeTrend, type TrendRow } from '../dashboard/src/lib/charts/trend-spec.ts';
import type { TopLevelSpec } from 'vega-lite';

export interface Column { key: string; label: string; format?: 'int' | 'hours' | 'percent' }

export type Section =
  | { kind: 'table'; heading: string; columns: Column[]; rows: Record<string, unknown>[]; note?: string }
  | { kind: 'chart'; heading: string; spec: TopLevelSpec; summary: string; columns: Column[]; rows: Record<string, unknown>[] }
  | { kind: 'text'; heading: string; paragraphs: string[] };

export interface ReportContent {
  id: string;
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

const KPI_COLUMNS: Column[] = [
  { key: 'service', label: 'Service' },
  { key: 'opened', label: 'Opened', format: 'int' },
  { key: 'closed', label: 'Closed', format: 'int' },
  { key: 'median_hours_to_close', label: 'Median hours to close', format: 'hours' },
  { key: 'on_time_rate', label: 'On time', format: 'percent' },
  { key: 'pending', label: 'Pending', format: 'int' },
];

const weeklySummary: ReportDefinition = {
  id: 'weekly-summary',
  title: 'Weekly service summary',
  description: 'Last full week (Monday–Sunday, local time): volume, Kaplan–Meier median time to close and on-time rate per service, with 12 weeks of volume.',
  async build(wh, ctx) {
    const asOf = ctx.as_of ?? (await dataAsOf(wh)) ?? new Date().toISOString();
    // The latest Monday–Sunday week that ends on or before the as-of day.
    const w = (await wh.one<{ start: string; end: string; trend_start: string; as_of_local: string }>(
      `WITH d AS (SELECT ($as_of::TIMESTAMPTZ AT TIME ZONE $tz)::DATE AS day)
       SELECT strftime(day - (isodow(day) % 7)::INTEGER - 6, '%Y-%m-%d') AS start,
              strftime(day - (isodow(day) % 7)::INTEGER, '%Y-%m-%d') AS end,
              strftime(day - (isodow(day) % 7)::INTEGER - 83, '%Y-%m-%d') AS trend_start,
              strftime($as_of::TIMESTAMPTZ AT TIME ZONE $tz, '%Y-%m-%d %H:%M') AS as_of_local
       FROM d`,
      { as_of: asOf, tz: ctx.timezone },
    ))!;
    const week = await computeKpis(wh, ['service'], { from: w.start, to: w.end, as_of: asOf, timezone: ctx.timezone });
    const trend = await computeKpis(wh, ['service', 'week'], { from: w.trend_start, to: w.end, as_of: asOf, timezone: ctx.timezone });
    const trendRows: TrendRow[] = trend.rows.map((r) => ({ week: r.week!, service: r.service!, opened: r.opened }));
    const totals = week.rows.reduce((t, r) => ({ opened: t.opened + r.opened, closed: t.closed + r.closed }), { opened: 0, closed: 0 });
    const rows = week.rows.map((r) => ({ ...r }) as Record<string, unknown>);
    return {
      id: 'weekly-summary',
      title: `${weeklySummary.title}: ${ctx.jurisdiction}`,
      subtitle: `Week of ${w.start} to ${w.end} (${ctx.timezone}). Data as of ${w.as_of_local} local time.`,
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
            'Cases are counted in the week they were opened (opened cohort).',
            'Median hours to close is the Kaplan–Meier median: cases still open at the as-of time count as open, not as missing, so a growing backlog does not make service look faster. A dash means more than half are still open.',
            'On time is closed by the due time ÷ (closed + open and past due). Pending cases are open and not yet due. Cancelled cases, and cases recorded as closed before they opened, are left out of durations and on-time rates.',
          ],
        },
      ],
      csv: { columns: KPI_COLUMNS.concat([{ key: 'median_hours_ci_lower', label: 'median_ci_lower' }, { key: 'median_hours_ci_upper', label: 'median_ci_upper' }, { key: 'p90_hours_to_close', label: 'p90_hours_to_close' }, { key: 'cancelled', label: 'cancelled' }, { key: 'excluded_data_errors', label: 'excluded_data_errors' }]), rows },
    };
  },
};

export const REPORTS: Record<string, ReportDefinition> = { [weeklySummary.id]: weeklySummary };

export function getReport(id: string): ReportDefinition {
  const def = REPORTS[id];
  if (!def) throw new Error(`Unknown report "${id}". Reports: ${Object.keys(REPORTS).join(', ')}`);
  return def;
}

export function formatCell(value: unknown, format: Column['format']): string {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return '–';
  if (format === 'int') return Number(value).toLocaleString('en-US');
  if (format === 'hours') return Number(value).toFixed(1);
  if (format === 'percent') return `${(Number(value) * 100).toFixed(1)}%`;
  return String(value);
}
