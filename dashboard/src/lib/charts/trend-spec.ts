// Weekly volume per service as a line chart. Pure: the dashboard and the PDF renderer call the
// same function with the same rows and draw the same chart.
import type { TopLevelSpec } from 'vega-lite';
import { dayTicks, theme } from './theme.ts';
import { limitSeries, MAX_SERIES } from './series-limit.ts';

export interface TrendRow { week: string; service: string; opened: number }

export interface TrendOptions {
  title?: string;
  width?: number | 'container';
  height?: number;
  /** Shown on the y axis. */
  measureLabel?: string;
  /** What a row's `week` is: a week (its Monday) or, for a window of a few weeks, a day. */
  period?: 'week' | 'day';
}

export function buildTrendSpec(input: readonly TrendRow[], options: TrendOptions = {}): TopLevelSpec {
  // At most 8 lines: the seven busiest services and the rest summed as "Other services (n)".
  const rows = limitSeries(input, 'service', 'opened', 'week', MAX_SERIES, 'Other services').rows;
  const label = options.measureLabel ?? 'Cases opened';
  // Tick on the weeks themselves (Mondays), thinned to about a dozen labels.
  const tickValues = dayTicks(rows.map((r) => r.week));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title ? { title: options.title } : {}),
    width: options.width ?? 'container',
    height: options.height ?? 280,
    config: theme,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      // Weeks are local dates (YYYY-MM-DD); read and label them as UTC so no browser zone shifts them.
      x: { field: 'week', type: 'temporal', timeUnit: 'utcyearmonthdate', title: options.period === 'day' ? 'Day' : 'Week starting', axis: { format: '%b %d', labelAngle: 0, values: tickValues } },
      // Counts are whole numbers: integer ticks, from zero (an all-zero week once read "0.000000").
      y: { field: 'opened', type: 'quantitative', title: label, scale: { domainMin: 0, nice: true }, axis: { format: ',d', tickMinStep: 1 } },
      color: { field: 'service', type: 'nominal', title: 'Service', sort: 'ascending', legend: { labelLimit: 260 } },
      tooltip: [
        { field: 'service', type: 'nominal', title: 'Service' },
        { field: 'week', type: 'temporal', timeUnit: 'utcyearmonthdate', title: options.period === 'day' ? 'Day' : 'Week starting', format: '%Y-%m-%d' },
        { field: 'opened', type: 'quantitative', title: label },
      ],
    },
  };
}

/** One plain sentence for people who cannot see the chart. */
export function describeTrend(rows: readonly TrendRow[], measureLabel = 'cases opened', period: 'week' | 'day' = 'week'): string {
  if (rows.length === 0) return `No ${measureLabel} in this period.`;
  const weeks = [...new Set(rows.map((r) => r.week))].sort();
  const services = new Set(rows.map((r) => r.service));
  const top = rows.reduce((a, b) => (b.opened > a.opened ? b : a));
  const total = rows.reduce((s, r) => s + r.opened, 0);
  return `${period === 'day' ? 'Daily' : 'Weekly'} ${measureLabel} for ${services.size} service${services.size === 1 ? '' : 's'} over ${weeks.length} ${period}${weeks.length === 1 ? '' : 's'} ` +
    `(${weeks[0]} to ${weeks[weeks.length - 1]}), ${total.toLocaleString('en-US')} in all; the highest ${period} was ${top.service} ` +
    `with ${top.opened.toLocaleString('en-US')} ${period === 'day' ? 'on' : 'in the week starting'} ${top.week}.`;
}
