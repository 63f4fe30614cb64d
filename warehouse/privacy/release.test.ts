import { describe, expect, it } from 'vitest';
import { Axis } from './cube.ts';
import { buildRelease, DisclosureError, isSuppressed, sliceCells } from './release.ts';
import { publicH3Resolution, sensitiveServiceNames, footnotes, DEFAULT_POLICY } from './policy.ts';

function rowsAxis() {
  const rows = new Axis('rows', 'All requests');
  const s = { pothole: rows.node(['Streets', 'Pothole'], 'service'), light: rows.node(['Streets', 'Streetlight'], 'service'), shelter: rows.node(['Care', 'Shelter'], 'service') };
  const a = { north: rows.node(['North'], 'area'), south: rows.node(['South'], 'area'), hidden: rows.node(['(area not published)'], 'area') };
  return { rows, s, a };
}

describe('a release', () => {
  it('carries every field through every margin, protects the count, and slices tables out of one cube', async () => {
    const { rows, s, a } = rowsAxis();
    const time = Axis.flat('month', ['2026-01-01', '2026-02-01']);
    const [jan, feb] = time.leavesUnder(0);
    const rec = (svc: number, area: number, t: number, opened: number) => ({ leaves: [[svc, area], t], fields: { opened, closed: Math.floor(opened / 2) } });
    const release = await buildRelease({
      axes: [rows, time],
      records: [rec(s.pothole, a.north, jan, 40), rec(s.pothole, a.south, jan, 30), rec(s.light, a.north, jan, 4), rec(s.light, a.south, feb, 25), rec(s.shelter, a.hidden, jan, 12), rec(s.pothole, a.north, feb, 50)],
      countField: 'opened',
      fields: ['opened', 'closed'],
      k: 10,
    });
    const { cube, values } = release;
    const at = (r: number, t: number) => r * cube.strides[0] + t * cube.strides[1];
    expect(values.opened[at(0, 0)]).toBe(161);
    expect(values.closed[at(0, 0)]).toBe(20 + 15 + 2 + 12 + 6 + 25);
    // The area split and the service split of the total agree; Streetlight in January (4) is suppressed with a complement.
    expect(values.opened[at(a.north, 0)] + values.opened[at(a.south, 0)] + values.opened[at(a.hidden, 0)]).toBe(161);
    expect(isSuppressed(release, at(s.light, jan))).toBe(true);
    expect(release.protection.stats.complementary).toBeGreaterThan(0);
    const byService = sliceCells(release, [rows.atDepth(2, 'service'), [0]]);
    expect(byService.map((c) => values.opened[c])).toEqual([120, 29, 12]); // in the axis' order: Pothole, Streetlight, Shelter
  });

  it('refuses to publish anything from values that are not counts', async () => {
    const rows = Axis.flat('area', ['N', 'S']);
    for (const bad of [Number.NaN, -1, Infinity]) {
      const records = [{ leaves: [rows.leavesUnder(0)[0]], fields: { opened: 5 } }, { leaves: [rows.leavesUnder(0)[1]], fields: { opened: bad } }];
      await expect(buildRelease({ axes: [rows], records, countField: 'opened', fields: ['opened'], k: 10 })).rejects.toThrow(DisclosureError);
    }
  });
});

describe('rules', () => {
  it('generalises public H3 cells to resolution 7 or coarser', () => {
    expect(publicH3Resolution(9)).toBe(7);
    expect(publicH3Resolution(5)).toBe(5);
    expect(() => publicH3Resolution(-1)).toThrow();
  });

  it('matches sensitive services by code or name, ignoring case and spacing', () => {
    const names = sensitiveServiceNames({ ...DEFAULT_POLICY, sensitive_services: ['homeless  encampment', 'DV'] }, [
      { code: 'HE', name: 'Homeless Encampment' },
      { code: 'DV', name: 'Domestic Violence Report' },
      { code: 'PH', name: 'Pothole' },
    ]);
    expect([...names]).toEqual(['Homeless Encampment', 'Domestic Violence Report']);
    expect(footnotes(DEFAULT_POLICY, []).area_not_published).toBe('No service is left out of the public figures.');
  });
});
