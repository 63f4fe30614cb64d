// The Kaplan–Meier curve of time to close: the share of cases still open after each time, as a
// step line (the distribution, not only its median), in hours under 48 h and days beyond by the
// same rule as every figure; the median is drawn as a dashed line at 50%.
import type { TopLevelSpec } from 'vega-lite';
import { theme } from './theme.ts';

export interface KmPoint { hours: number; survival: number; group?: string }

/** Days when the curve runs past 48 hours (the units rule), else hours. */
export const kmUnit = (points: readonly KmPoint[]): 'hours' | 'days' => (points.some((p) => p.hours >= 48) ? 'days' : 'hours');

export function buildKmSpec(points: readonly KmPoint[], o: { width?: number | 'container'; height?: number; title?: string } = {}): TopLevelSpec {
  const unit = kmUnit(points);
  const f = unit === 'days' ? 1 / 24 : 1;
  const values = points.map((p) => ({ t: p.hours * f, open: p.survival, group: p.group ?? 'All cases' }));
  const many = new Set(values.map((v) => v.group)).size > 1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: o.width ?? 'container',
    height: o.height ?? 240,
    config: theme,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', tooltip: true },
        encoding: {
          x: { field: 't', type: 'quantitative', title: `Time since opening (${unit})`, scale: { domainMin: 0, nice: true } },
          y: { field: 'open', type: 'quantitative', title: 'Share still open', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
          ...(many ? { color: { field: 'group', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 260 } } } : {}),
          tooltip: [
            ...(many ? [{ field: 'group', type: 'nominal', title: 'Group' }] : []),
            { field: 't', type: 'quantitative', title: unit, format: '.1f' },
            { field: 'open', type: 'quantitative', title: 'Still open', format: '.1%' },
          ],
        },
      },
      {
        data: { values: [{ y: 0.5, label: 'median' }] },
        layer: [
          { mark: { type: 'rule', strokeDash: [6, 4], color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
          { mark: { type: 'text', align: 'right', dy: -6, color: '#333', fontSize: 11 }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 'width' }, text: { field: 'label' } } },
        ],
      },
    ],
  } as TopLevelSpec;
}
