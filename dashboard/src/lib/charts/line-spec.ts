// A line over local days or weeks: one measure, one line per series (at most 8: see
// series-limit.ts), with an optional target drawn as a dashed rule and marked periods (anomalies)
// as rings. Pure: the dashboard and the PDF reports call it with the same rows.
import type { TopLevelSpec } from 'vega-lite';
import { dayTicks, theme } from './theme.ts';

export interface LinePoint { x: string; value: number | null; series?: string }
export interface LineOptions {
  xTitle?: string;
  yTitle: string;
  /** d3 format of the y axis: ',d' counts, '.0%' shares, '.1f' other. */
  yFormat?: string;
  /** A value drawn as a dashed line, labelled (e.g. the on-time target). */
  target?: { value: number; label: string } | null;
  /** Periods to mark (x values), e.g. anomalies. */
  marked?: readonly string[];
  width?: number | 'container';
  height?: number;
  /** Share axes run 0–100%. */
  share?: boolean;
}

export function buildLineSpec(points: readonly LinePoint[], o: LineOptions): TopLevelSpec {
  const values = points.filter((p) => p.value !== null).map((p) => ({ ...p, series: p.series ?? o.yTitle }));
  const many = new Set(values.map((v) => v.series)).size > 1;
  const tickValues = dayTicks(points.map((p) => p.x), 10);
  // Local days (YYYY-MM-DD) read and label as UTC so no browser zone moves them.
  const x = { field: 'x', type: 'temporal' as const, timeUnit: 'utcyearmonthdate' as const, title: o.xTitle ?? 'Week starting', axis: { format: '%b %d', labelAngle: 0, values: tickValues } };
  const yScale = o.share ? { domain: [0, 1] } : { domainMin: 0, nice: true };
  const layers: object[] = [
    {
      data: { values },
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: o.yTitle, scale: yScale, axis: { format: o.yFormat ?? ',d', ...(o.yFormat === ',d' || !o.yFormat ? { tickMinStep: 1 } : {}) } },
        ...(many ? { color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 260 } } } : { color: { value: theme.range && Array.isArray(theme.range.category) ? theme.range.category[0] : '#0072B2' } }),
        tooltip: [
          ...(many ? [{ field: 'series', type: 'nominal', title: 'Series' }] : []),
          { field: 'x', type: 'temporal', timeUnit: 'utcyearmonthdate', title: o.xTitle ?? 'Week starting', format: '%Y-%m-%d' },
          { field: 'value', type: 'quantitative', title: o.yTitle, format: o.yFormat ?? ',d' },
        ],
      },
    },
  ];
  if (o.target) {
    layers.push({
      data: { values: [{ target: o.target.value, label: o.target.label }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [6, 4], color: '#333' }, encoding: { y: { field: 'target', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#333', fontSize: 11 }, encoding: { y: { field: 'target', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } },
      ],
    });
  }
  const marked = (o.marked ?? []).filter((m) => values.some((v) => v.x === m));
  if (marked.length) {
    const rings = values.filter((v) => marked.includes(v.x));
    layers.push({
      data: { values: rings },
      mark: { type: 'point', shape: 'circle', size: 220, filled: false, strokeWidth: 2, color: '#D55E00' },
      encoding: { x, y: { field: 'value', type: 'quantitative' } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: o.width ?? 'container',
    height: o.height ?? 240,
    config: theme,
    layer: layers,
  } as TopLevelSpec;
}

/** One sentence: first and last value, highest, and how many periods are marked. */
export function describeLine(points: readonly LinePoint[], o: { yTitle: string; format: (v: number) => string; markedLabel?: string; marked?: readonly string[] }): string {
  const vals = points.filter((p): p is LinePoint & { value: number } => p.value !== null);
  if (vals.length === 0) return `No ${o.yTitle.toLowerCase()} in this period.`;
  const series = [...new Set(vals.map((v) => v.series ?? ''))];
  const marks = o.marked?.length ? ` ${o.marked.length} ${o.markedLabel ?? 'marked period'}${o.marked.length === 1 ? '' : 's'} (${o.marked.join(', ')}).` : '';
  if (series.length > 1) {
    const top = vals.reduce((a, b) => (b.value > a.value ? b : a));
    return `${o.yTitle} for ${series.length} series from ${vals[0].x} to ${vals[vals.length - 1].x}; the highest was ${top.series} with ${o.format(top.value)} in the period starting ${top.x}.${marks}`;
  }
  const first = vals[0];
  const last = vals[vals.length - 1];
  const top = vals.reduce((a, b) => (b.value > a.value ? b : a));
  return `${o.yTitle} went from ${o.format(first.value)} (${first.x}) to ${o.format(last.value)} (${last.x}); the highest was ${o.format(top.value)} (${top.x}).${marks}`;
}
