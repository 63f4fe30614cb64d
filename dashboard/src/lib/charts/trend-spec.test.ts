import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import * as vega from 'vega';
import { buildTrendSpec, describeTrend, type TrendRow } from './trend-spec.ts';

const rows: TrendRow[] = [
  { week: '2026-10-05', service: 'Pothole Repair', opened: 31 },
  { week: '2026-10-12', service: 'Pothole Repair', opened: 44 },
  { week: '2026-10-05', service: 'Missed Trash Pickup', opened: 80 },
  { week: '2026-10-12', service: 'Missed Trash Pickup', opened: 62 },
];

describe('buildTrendSpec', () => {
  it('compiles with vega-lite and renders one line per service to SVG', async () => {
    const spec = buildTrendSpec(rows, { width: 500 });
    const { spec: vgSpec } = compile(spec);
    const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    expect(svg).toContain('<svg');
    // Two services → two line paths, and the axis labels are real text.
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(2);
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBe(4);
    expect(svg).toContain('Pothole Repair');
    expect(svg).toContain('Week starting');
  });

  it('does not share row objects with the caller', () => {
    const spec = buildTrendSpec(rows) as { data: { values: TrendRow[] } };
    expect(spec.data.values[0]).not.toBe(rows[0]);
    expect(spec.data.values).toEqual(rows);
  });

  it('says what the chart shows in one sentence', () => {
    expect(describeTrend(rows)).toBe(
      'Weekly cases opened for 2 services over 2 weeks (2026-10-05 to 2026-10-12), 217 in all; the highest week was Missed Trash Pickup with 80 in the week starting 2026-10-05.',
    );
    expect(describeTrend([])).toBe('No cases opened in this period.');
  });
});
