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

  it('sums every field as Cube.aggregate does, a slice of records per turn of the event loop', async () => {
    // A city's release: 60 services in 6 groups × 25 areas × 12 months, two fields, sparse leaves.
    const rows = new Axis('rows', 'All requests');
    const services = Array.from({ length: 60 }, (_, i) => rows.node([`G${i % 6}`, `S${i}`], 'service'));
    const areas = Array.from({ length: 25 }, (_, i) => rows.node([`A${i}`], 'area'));
    const time = Axis.flat('month', Array.from({ length: 12 }, (_, i) => `m${i}`));
    const months = time.leavesUnder(0);
    // Each record says when its fields are first read, so the test sees how far the summing got.
    let read = 0;
    const records: { leaves: (number | number[])[]; fields: Record<string, number> }[] = [];
    services.forEach((sv, i) => areas.forEach((ar, j) => months.forEach((m, k) => {
      if ((i * 7 + j * 3 + k) % 4 === 0) return;
      const fields = { opened: (i + j + k) % 17, closed: (i * j + k) % 5 };
      let seen = false;
      records.push({ leaves: [[sv, ar], m], get fields() {
        if (!seen) (seen = true), read++;
        return fields;
      } });
    })));
    expect(records.length).toBeGreaterThan(10_000); // several slices
    let readAtFirstTurn = -1;
    setImmediate(() => (readAtFirstTurn = read));
    const release = await buildRelease({ axes: [rows, time], records, countField: 'opened', fields: ['opened', 'closed'], k: 10 });
    // The loop turned after the first slice of records, not after all of them.
    expect(readAtFirstTurn).toBeGreaterThan(0);
    expect(readAtFirstTurn).toBeLessThan(records.length / 2);
    // The reference, by definition: a cell is the sum of the records whose leaves lie under its
    // node on every axis (a record names one leaf per partition family of the rows axis).
    const cube = release.cube;
    const under = (axis: Axis, node: number, leaf: number) => axis.ancestry(leaf).includes(node);
    const axes = [rows, time];
    for (const f of ['opened', 'closed']) {
      const want = new Float64Array(cube.size);
      for (let cell = 0; cell < cube.size; cell++) {
        const coords = cube.coords(cell);
        for (const r of records) {
          if (r.leaves.every((l, a) => (Array.isArray(l) ? l : [l as number]).some((leaf) => under(axes[a], coords[a], leaf)))) want[cell] += r.fields[f];
        }
      }
      expect(release.values[f]).toEqual(want);
    }
    expect(release.values.opened[0]).toBe(records.reduce((n, r) => n + r.fields.opened, 0));
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
