// findRepeatPlaces against the definition written out pair by pair, on random cases crowded onto
// few points (so points repeat and places hold several services and areas), with names whose
// byte order differs from their code-unit order, and every cut of the list (limit).
import { describe, expect, it } from 'vitest';
import { latLngToCell } from 'h3-js';
import { findRepeatPlaces, type RepeatCases, type RepeatGroup } from './repeat-places.ts';

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000_000;
// "\u{1F600}" sorts after "\uFFFD" by bytes (F0… > EF…), before it by UTF-16 code units.
const SERVICES = ['Graffiti', 'Pothole', 'Ärger', '\u{1F600} Noise', '\uFFFD Other'];
const AREAS = ['North', 'South', 'Émile', '\u{1F600}', '\uFFFD'];

function cases(seed: number, n: number, layout: 'grid' | 'line' = 'grid'): RepeatCases[] {
  const rnd = random(seed);
  // 42 points on a grid a few hundred metres apart (points share a latitude or a longitude), and
  // near each a second point metres away (some in the same resolution-10 cell, some across an edge).
  const grid = Array.from({ length: 6 }, (_, i) => Array.from({ length: 7 }, (_, j) => [40 + i * 0.002, -75 + j * 0.002])).flat();
  // Or a line of distinct points along one latitude, then along one longitude, tens of metres
  // apart: a point lookup must tell points that share a coordinate apart.
  const points = layout === 'grid' ? [...grid, ...grid.map(([lat, lon]) => [lat + rnd() * 0.0004, lon])]
    : Array.from({ length: n }, (_, i) => (i % 2 ? [40, -75 + i * 0.0003] : [40 + i * 0.0003, -75]));
  const lists = new Map<string, { service: string; area_names: string[]; area: number[]; lat: number[]; lon: number[]; opened: number[]; closed: number[]; in_window: number[] }>();
  for (let i = 0; i < n; i++) {
    const service = SERVICES[Math.floor(rnd() * SERVICES.length)];
    const area = AREAS[Math.floor(rnd() * AREAS.length)];
    const [lat, lon] = layout === 'grid' ? points[Math.floor(rnd() * points.length)] : points[i];
    // Whole days mostly (ties with closes at the very instant of an opening), some odd microseconds.
    const opened = Math.floor(rnd() * 120) * DAY + (rnd() < 0.3 ? Math.floor(rnd() * DAY) : 0);
    const closed = rnd() < 0.25 ? NaN : opened + Math.floor(rnd() * 20) * DAY + (rnd() < 0.2 ? 1 : 0);
    // Each service's list names the areas in an order of its own (the reader maps them).
    const l = lists.get(service) ?? { service, area_names: [...AREAS].sort(() => rnd() - 0.5), area: [], lat: [], lon: [], opened: [], closed: [], in_window: [] };
    l.area.push(l.area_names.indexOf(area));
    l.lat.push(lat);
    l.lon.push(lon);
    l.opened.push(opened);
    l.closed.push(closed);
    l.in_window.push(opened >= 40 * DAY ? 1 : 0);
    lists.set(service, l);
  }
  return [...lists.values()].map((l) => byArea(l));
}

/** A service's cases area by area, in its own order of areas (empty areas kept: a count of 0). */
function byArea(l: { service: string; area_names: string[]; area: number[]; lat: number[]; lon: number[]; opened: number[]; closed: number[]; in_window: number[] }): RepeatCases {
  const order = l.area.map((_, i) => i).sort((x, y) => l.area[x] - l.area[y] || x - y);
  const pick = (v: number[]) => Float64Array.from(order, (i) => v[i]);
  return {
    service: l.service, area_names: l.area_names, area_counts: Float64Array.from(l.area_names, (_, a) => l.area.filter((x) => x === a).length),
    lat: pick(l.lat), lon: pick(l.lon), opened: pick(l.opened), closed: pick(l.closed), in_window: pick(l.in_window),
  };
}

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The definition, pair by pair. */
function brute(lists: RepeatCases[], days: number, resolution: number): RepeatGroup[] {
  const areaAt = (l: RepeatCases, i: number) => {
    let end = 0;
    for (let a = 0; a < l.area_names.length; a++) if (i < (end += l.area_counts[a])) return l.area_names[a];
    throw new Error('no area');
  };
  const all = lists.flatMap((l) => Array.from(l.opened, (o, i) => ({ service: l.service, area: areaAt(l, i), cell: latLngToCell(l.lat[i], l.lon[i], resolution), opened: o, closed: l.closed[i], inWindow: l.in_window[i] === 1 })));
  const out: RepeatGroup[] = [];
  const byCell = new Map<string, typeof all>();
  for (const c of all) byCell.set(c.cell, [...(byCell.get(c.cell) ?? []), c]);
  for (const [cell, here] of byCell) {
    const counts = new Map<string, number>();
    for (const c of here) if (c.inWindow) counts.set(c.area, (counts.get(c.area) ?? 0) + 1);
    const area = [...counts].sort((a, b) => b[1] - a[1] || bytes(a[0], b[0]))[0]?.[0];
    for (const service of new Set(here.map((c) => c.service))) {
      const same = here.filter((c) => c.service === service);
      const requests = same.filter((c) => c.inWindow);
      const repeated = requests.filter((r) => same.some((e) => !Number.isNaN(e.closed) && e.closed < r.opened && r.opened - e.closed <= days * DAY));
      if (repeated.length === 0) continue;
      out.push({
        cell, service, area: area!, requests: requests.length, repeats: repeated.length,
        first_request: Math.min(...requests.map((r) => r.opened)), last_request: Math.max(...requests.map((r) => r.opened)), last_repeat: Math.max(...repeated.map((r) => r.opened)),
      });
    }
  }
  return out.sort((x, y) => y.repeats - x.repeats || y.requests - x.requests || bytes(x.cell, y.cell) || bytes(x.service, y.service));
}

describe('findRepeatPlaces', () => {
  // The 80,000 distinct points of the last are more than POINTS_INLINE: their cells come from the
  // workers, at once or in parts of 32,771.
  for (const [seed, n, days, resolution, layout, parts] of [[1, 400, 30, 10, 'grid', 97], [2, 3000, 7, 10, 'grid', 97], [3, 3000, 30, 11, 'grid', 97], [6, 3000, 60, 10, 'line', 97], [4, 1, 30, 10, 'grid', 97], [5, 0, 30, 10, 'grid', 97], [7, 80_000, 30, 10, 'line', 32_771]] as const) {
    it(`is the definition, pair by pair: ${n} cases on a ${layout}, ${days} days, resolution ${resolution}`, async () => {
      const lists = cases(seed, n, layout);
      const want = brute(lists, days, resolution);
      if (n >= 400) expect(want.length).toBeGreaterThan(20);
      for (const limit of [1, 3, 10, want.length, want.length + 5]) {
        if (limit < 1) continue;
        // The points' cells asked for all at once, and in parts of new points (numbered across
        // parts as in one pass).
        for (const pointsPerSend of [undefined, parts]) {
          const got = await findRepeatPlaces(lists, days, resolution, limit, { pointsPerSend });
          expect(got.total).toBe(want.length);
          expect(got.repeats).toBe(want.reduce((s, g) => s + g.repeats, 0));
          expect(got.top).toEqual(want.slice(0, limit));
        }
      }
    });
  }

  it('puts names in byte order, as DuckDB does, not in code-unit order', async () => {
    expect(bytes('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
    expect('\u{1F600}' < '\uFFFD').toBe(true);
    // One place: the two areas tie, and two services tie on repeats and requests.
    const one = (service: string, area: string): RepeatCases => ({
      service, area_names: ['x', area, 'y'], area_counts: Float64Array.of(0, 2, 0), lat: Float64Array.of(40, 40), lon: Float64Array.of(-75, -75),
      opened: Float64Array.of(0, 2 * DAY), closed: Float64Array.of(DAY, NaN), in_window: Float64Array.of(1, 1),
    });
    const got = await findRepeatPlaces([one('\u{1F600}', '\u{1F600}'), one('\uFFFD', '\uFFFD')], 30, 10, 10);
    expect(got.top.map((g) => [g.service, g.area])).toEqual([['\uFFFD', '\uFFFD'], ['\u{1F600}', '\uFFFD']]);
  });
});
