// A series' recent weekly counts and its forecast: the 95% and 80% intervals as bands, the mean
// as a dashed line, the history as a solid one, and a rule where the forecast starts. Pure: the
// dashboard and the PDF reports draw the same chart from the same rows.
import type { TopLevelSpec } from 'vega-lite';
import { dayTicks, theme } from './theme.ts';

export interface ForecastChartRow { week: string; count?: number | null; mean?: number | null; lower80?: number | null; upper80?: number | null; lower95?: number | null; upper95?: number | null }

export function buildForecastSpec(rows: readonly ForecastChartRow[], o: { height?: number; width?: number | 'container' } = {}): TopLevelSpec {
  const values = rows.map((r) => ({ ...r }));
  const first = rows.find((r) => r.mean !== undefined && r.mean !== null)?.week;
  const x = { field: 'week', type: 'temporal' as const, timeUnit: 'utcyearmonthdate' as const, title: 'Week starting', axis: { format: '%b %d', labelAngle: 0, values: dayTicks(rows.map((r) => r.week), 10) } };
  const y = (field: string) => ({ field, type: 'quantitative' as const, title: 'Requests a week', scale: { domainMin: 0, nice: true }, axis: { format: ',d', tickMinStep: 1 } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: o.width ?? 'container',
    height: o.height ?? 260,
    config: theme,
    data: { values },
    layer: [
      { transform: [{ filter: 'datum.lower95 != null' }], mark: { type: 'area', color: '#56B4E9', opacity: 0.25 }, encoding: { x, y: y('lower95'), y2: { field: 'upper95' } } },
      { transform: [{ filter: 'datum.lower80 != null' }], mark: { type: 'area', color: '#0072B2', opacity: 0.3 }, encoding: { x, y: y('lower80'), y2: { field: 'upper80' } } },
      { transform: [{ filter: 'datum.count != null' }], mark: { type: 'line', color: '#222', point: { size: 18, color: '#222' }, tooltip: true }, encoding: { x, y: y('count') } },
      { transform: [{ filter: 'datum.mean != null' }], mark: { type: 'line', color: '#0072B2', strokeDash: [6, 4], point: { size: 24, color: '#0072B2' }, tooltip: true }, encoding: { x, y: y('mean') } },
      ...(first
        ? [{ data: { values: [{ week: first, label: 'forecast' }] }, layer: [
            { mark: { type: 'rule', color: '#555', strokeDash: [2, 3] }, encoding: { x } },
            { mark: { type: 'text', align: 'left', dx: 4, dy: 8, color: '#333', fontSize: 11 }, encoding: { x, y: { value: 0 }, text: { field: 'label' } } },
          ] }]
        : []),
    ],
  } as TopLevelSpec;
}
