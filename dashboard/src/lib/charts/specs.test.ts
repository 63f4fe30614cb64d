// Every chart builder's spec compiles with vega-lite and draws to SVG (as the PDF reports do), and
// the series limit keeps charts to 8 distinguishable lines.
import { describe, expect, it } from 'vitest';
import { compile, type TopLevelSpec } from 'vega-lite';
import * as vega from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { buildLineSpec, describeLine } from './line-spec.ts';
import { buildKmSpec, kmUnit } from './km-spec.ts';
import { buildBarSpec } from './bar-spec.ts';
import { limitSeries } from './series-limit.ts';
import { buildTrendSpec } from './trend-spec.ts';
import { buildForecastSpec } from './forecast-spec.ts';
import { buildMapSpec } from './map-spec.ts';

/** Drawn as the dashboard draws it: expressions evaluated by Vega's interpreter, not eval. */
async function svgOf(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile({ ...spec, width: 400 } as TopLevelSpec).spec, undefined, { ast: true }), { renderer: 'none', expr: expressionInterpreter });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

describe('chart spec builders', () => {
  it('line: a target rule with its label and rings on marked periods', async () => {
    const pts = [{ x: '2026-10-05', value: 0.7 }, { x: '2026-10-12', value: 0.8 }, { x: '2026-10-19', value: 0.6 }];
    const svg = await svgOf(buildLineSpec(pts, { yTitle: 'On time', yFormat: '.0%', share: true, target: { value: 0.85, label: 'target 85%' }, marked: ['2026-10-19'] }));
    expect(svg).toContain('target 85%');
    // The time axis has its labels (they were lost under the interpreter with timestamp ticks).
    expect(svg).toContain('>Oct 05<');
    expect(svg).toContain('>Oct 19<');
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(1);
    // 3 points on the line + 1 ring for the marked week.
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBe(4);
    expect(describeLine(pts, { yTitle: 'On time', format: (v) => `${Math.round(v * 100)}%` })).toBe('On time went from 70% (2026-10-05) to 60% (2026-10-19); the highest was 80% (2026-10-12).');
  });

  it('km: a step line in days once the curve passes 48 hours', async () => {
    const pts = [{ hours: 0, survival: 1 }, { hours: 20, survival: 0.6 }, { hours: 60, survival: 0.2 }];
    expect(kmUnit(pts)).toBe('days');
    expect(kmUnit(pts.slice(0, 2))).toBe('hours');
    const svg = await svgOf(buildKmSpec(pts));
    expect(svg).toContain('Time since opening (days)');
    expect(svg).toContain('median');
  });

  it('forecast: history, the mean dashed, both intervals as bands, and where the forecast starts', async () => {
    const rows = [
      { week: '2026-10-05', count: 31 }, { week: '2026-10-12', count: 44 },
      { week: '2026-10-19', mean: 40, lower80: 33, upper80: 47, lower95: 29, upper95: 51 },
      { week: '2026-10-26', mean: 41, lower80: 32, upper80: 50, lower95: 27, upper95: 55 },
    ];
    const svg = await svgOf(buildForecastSpec(rows));
    expect((svg.match(/aria-roledescription="area mark"/g) ?? []).length).toBe(2);
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(2);
    expect(svg).toContain('>forecast<');
    expect(svg).toContain('>Oct 19<');
  });

  it('map: a choropleth of the areas by class, and hot cells over it with their own legend', async () => {
    const square = (x: number, y: number, d: number) => ({ type: 'Polygon', coordinates: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] });
    const areas = { type: 'FeatureCollection' as const, features: [
      { type: 'Feature' as const, geometry: square(-77.4, 41.1, 0.1), properties: { name: 'District 1', class: 0 } },
      { type: 'Feature' as const, geometry: square(-77.3, 41.1, 0.1), properties: { name: 'District 2', class: 1 } },
      { type: 'Feature' as const, geometry: square(-77.2, 41.1, 0.1), properties: { name: 'District 3', class: null } },
    ] };
    const cells = { type: 'FeatureCollection' as const, features: [{ type: 'Feature' as const, geometry: square(-77.35, 41.15, 0.01), properties: { bin: 3, confidence: 'hot spot, 99% confidence', area: 'District 1', count: 40 } }] };
    const svg = await svgOf(buildMapSpec(areas, { classLabels: ['10 to 20', '20 to 30'], legendTitle: 'Cases opened', cells }));
    expect((svg.match(/aria-roledescription="geoshape"/g) ?? []).length).toBe(4);
    // Rewound for d3: each area is drawn as its own small square, not as the whole view around it
    // (what a counter-clockwise ring gives): every area path stays inside the 400-pixel-wide plot.
    const paths = [...svg.matchAll(/aria-roledescription="geoshape"[^>]*?d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(4);
    for (const d of paths) {
      expect(d).not.toContain('NaN');
      const xs = [...d.matchAll(/[ML](-?[\d.]+),/g)].map((m) => Number(m[1]));
      expect(Math.max(...xs) - Math.min(...xs)).toBeLessThan(300);
    }
    for (const text of ['10 to 20', '20 to 30', 'too few cases', 'hot spot, 99% confidence', 'Cases opened']) expect(svg).toContain(text);
  });

  it('bar: labels and values', async () => {
    const svg = await svgOf(buildBarSpec([{ label: '0–2 days', value: 12 }, { label: 'over 30 days', value: 3 }], { xTitle: 'Open cases' }));
    expect(svg).toContain('0–2 days');
    expect(svg).toContain('Open cases');
  });

  it('limits a chart to 8 series: the 7 largest and one "Other (n)" summed per period', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [{ week: 'w1', service: `S${i}`, opened: 100 - i }, { week: 'w2', service: `S${i}`, opened: 50 }]).flat();
    const { rows: out, kept, folded } = limitSeries(rows, 'service', 'opened', 'week');
    expect(kept).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'Other (5)']);
    expect(folded).toEqual(['S7', 'S8', 'S9', 'S10', 'S11']);
    expect(out.find((r) => r.service === 'Other (5)' && r.week === 'w1')?.opened).toBe(93 + 92 + 91 + 90 + 89);
    expect(out.reduce((s, r) => s + r.opened, 0)).toBe(rows.reduce((s, r) => s + r.opened, 0));
    // The trend chart applies it: twelve services draw eight lines.
    const spec = buildTrendSpec(rows.map((r) => ({ ...r, week: r.week === 'w1' ? '2026-10-05' : '2026-10-12' }))) as { data: { values: { service: string }[] } };
    expect(new Set(spec.data.values.map((v) => v.service)).size).toBe(8);
  });
});
