// Horizontal bars for a few categories (backlog by age, channel mix): labels on the left, values
// at the bar's end, so the figure is read without a legend.
import type { TopLevelSpec } from 'vega-lite';
import { theme } from './theme.ts';

export interface Bar { label: string; value: number }

export function buildBarSpec(bars: readonly Bar[], o: { xTitle: string; format?: string; width?: number | 'container'; sort?: boolean } ): TopLevelSpec {
  const values = bars.map((b, i) => ({ ...b, order: i }));
  const fmt = o.format ?? ',d';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: o.width ?? 'container',
    height: { step: 26 },
    config: theme,
    data: { values },
    encoding: {
      y: { field: 'label', type: 'nominal', title: null, sort: o.sort ? '-x' : { field: 'order' }, axis: { labelLimit: 220 } },
      x: { field: 'value', type: 'quantitative', title: o.xTitle, scale: { domainMin: 0, nice: true }, axis: { format: fmt, ...(fmt === ',d' ? { tickMinStep: 1 } : {}) } },
    },
    layer: [
      { mark: { type: 'bar', color: '#0072B2', tooltip: true } },
      { mark: { type: 'text', align: 'left', dx: 4, color: '#222' }, encoding: { text: { field: 'value', type: 'quantitative', format: fmt } } },
    ],
  } as TopLevelSpec;
}
