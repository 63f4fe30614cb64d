import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gridDisk, gridDistance, latLngToCell } from 'h3-js';
import {
  benjaminiHochberg,
  confidenceBins,
  distanceBandNeighbours,
  erfc,
  fdrCutoff,
  getisOrdGiStar,
  h3Neighbours,
  h3StudyArea,
  localMoran,
  localMoranInTurns,
  h3NeighboursInTurns,
  h3StudyAreaInTurns,
  normalUpperTail,
  twoSidedP,
  withZeroCells,
} from './hotspots.ts';
import { seededRandom } from './random.ts';
import { Pacer } from '../turns.ts';

const known = JSON.parse(readFileSync(new URL('../../test/fixtures/known_answers.json', import.meta.url), 'utf8'));

describe('normal tail from erfc (reference values from mpmath at 30 digits)', () => {
  it('matches erfc and Q(z) to ~1e-15 relative, far into the tail', () => {
    const cases: [number, number][] = [
      [erfc(0.5), 0.47950012218695346],
      [erfc(1), 0.15729920705028513],
      [erfc(-1), 1.8427007929497148],
      [erfc(5), 1.5374597944280349e-12],
      [normalUpperTail(1.959963984540054), 0.025],
      [normalUpperTail(5), 2.866515718791939e-7],
      [normalUpperTail(10), 7.619853024160526e-24],
      [twoSidedP(-2.5758293035489004), 0.01],
    ];
    for (const [got, want] of cases) expect(Math.abs(got - want) / want).toBeLessThan(1e-14);
  });
});

describe('Getis–Ord Gi* against PySAL esda (gistar_esda_6pts)', () => {
  const ref = known.gistar_esda_6pts;
  const points = ref.points as [number, number][];

  it('distance band 15 is inclusive: (15,20)–(30,20) are exactly 15 apart and neighbours', () => {
    const nb = distanceBandNeighbours(points, 15);
    expect(nb[3]).toContain(4);
    expect(nb[4]).toContain(3);
    expect(nb[0]).toEqual([1, 3]);
    expect(nb.every((row, i) => !row.includes(i))).toBe(true);
  });

  it('Gi* binary z-scores to 8 decimals', () => {
    const result = getisOrdGiStar(ref.y, distanceBandNeighbours(points, 15));
    result.forEach((r, i) => expect(r.z).toBeCloseTo(ref.Gi_star_binary_Zs[i], 8));
  });

  it('self may be listed or not, and duplicates do not double-count', () => {
    const nb = distanceBandNeighbours(points, 15).map((row, i) => [i, ...row, ...row]);
    const result = getisOrdGiStar(ref.y, nb);
    result.forEach((r, i) => expect(r.z).toBeCloseTo(ref.Gi_star_binary_Zs[i], 8));
  });

  it('p is two-sided: z = 2.02424331 gives 0.0429451 (mpmath: 2·Q(2.02424331))', () => {
    const result = getisOrdGiStar(ref.y, distanceBandNeighbours(points, 15));
    expect(result[5].p).toBeCloseTo(0.0429451233571289, 8);
  });

  it('no variation means Gi* is undefined, not a hot spot', () => {
    const result = getisOrdGiStar([4, 4, 4], [[1], [0, 2], [1]]);
    expect(result.every((r) => Number.isNaN(r.z) && Number.isNaN(r.p))).toBe(true);
    expect(confidenceBins(result.map((r) => r.z), result.map((r) => r.p), { fdr: true })).toEqual([0, 0, 0]);
  });
});

describe('Benjamini–Hochberg against SciPy (bh_fdr_scipy)', () => {
  const ref = known.bh_fdr_scipy;

  it('adjusted p-values to the printed precision', () => {
    benjaminiHochberg(ref.p).forEach((q, i) => expect(q).toBeCloseTo(ref.bh_adjusted[i], 8));
  });

  it('does not depend on input order', () => {
    const order = ref.p.map((_: number, i: number) => i).reverse();
    order.push(order.shift()); // reversed and rotated: no longer sorted either way
    const adjusted = benjaminiHochberg(order.map((i: number) => ref.p[i]));
    order.forEach((orig: number, pos: number) => expect(adjusted[pos]).toBeCloseTo(ref.bh_adjusted[orig], 8));
  });

  it(`rejects ${ref['rejected_at_0.05']} at 0.05, both as adjusted p ≤ α and through esda's cut-off`, () => {
    expect(benjaminiHochberg(ref.p).filter((q) => q <= 0.05)).toHaveLength(ref['rejected_at_0.05']);
    const cut = fdrCutoff(ref.p, 0.05);
    expect(cut).toBeCloseTo((4 * 0.05) / 15, 15);
    expect(ref.p.filter((p: number) => p < cut)).toHaveLength(ref['rejected_at_0.05']);
  });
});

describe('confidence bins', () => {
  // Hand-worked: n = 10. α = .01: only p(1) = .0005 < .001 → cut .001. α = .05: p(2) = .008 <
  // .01 but p(3) = .02 ≮ .015 → cut .01. α = .10: p(3) = .02 < .03, p(4) = .041 ≮ .04 → cut .03.
  const p = [0.0005, 0.008, 0.02, 0.041, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9];
  const z = [3.5, 2.65, 2.3, -2.05, 1, 0.7, -0.5, 0.4, 0.25, 0.1];

  it('without FDR: ±3/±2/±1 at 99/95/90 %', () => {
    expect(confidenceBins(z, p, { fdr: false })).toEqual([3, 3, 2, -2, 0, 0, 0, 0, 0, 0]);
  });

  it('with FDR: the BH cut-off of each level', () => {
    expect(confidenceBins(z, p, { fdr: true })).toEqual([3, 2, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("no rank qualifies: esda's fallback is the Bonferroni bound α/n", () => {
    expect(fdrCutoff([0.2, 0.3, 0.4, 0.5], 0.05)).toBeCloseTo(0.0125, 15);
  });
});

describe('H3 neighbours (h3-js facts)', () => {
  it('latLngToCell(37.3615593, -122.0553238, 5) is 85283473fffffff', () => {
    expect(latLngToCell(37.3615593, -122.0553238, 5)).toBe('85283473fffffff');
  });

  it('around 8928308280fffff: 7 cells at k = 1, 19 at k = 2, found among a larger shuffled list', () => {
    const origin = '8928308280fffff';
    const cells = gridDisk(origin, 4).sort().reverse(); // 61 cells, origin not first
    const at = cells.indexOf(origin);
    const k1 = h3Neighbours(cells, 1);
    const k2 = h3Neighbours(cells, 2);
    expect(k1[at]).toHaveLength(7);
    expect(k2[at]).toHaveLength(19);
    expect(k1[at]).toContain(at);
    // An edge cell of the list loses the neighbours that are not in it.
    const edge = cells.findIndex((c) => gridDistance(origin, c) === 4);
    expect(k1[edge].length).toBeLessThan(7);
    expect(k1[edge].length).toBeGreaterThanOrEqual(3);
  });

  it('in turns of the event loop: the same lists', async () => {
    const cells = gridDisk('8928308280fffff', 9).sort(); // 271 cells: three turns' worth
    expect(await h3NeighboursInTurns(cells, 2)).toEqual(h3Neighbours(cells, 2));
    const some = cells.filter((_, i) => i % 7 === 0);
    expect(await h3StudyAreaInTurns(some, 2)).toEqual(h3StudyArea(some, 2));
    await expect(h3NeighboursInTurns([...cells, cells[0]], 1)).rejects.toThrow(/duplicate/);
  });

  it('around the pentagon 821c07fffffffff, k = 1 has 6 cells', () => {
    const pentagon = '821c07fffffffff';
    const cells = gridDisk(pentagon, 3);
    expect(h3Neighbours(cells, 1)[cells.indexOf(pentagon)]).toHaveLength(6);
  });

  it('rejects mixed resolutions and duplicate cells', () => {
    expect(() => h3Neighbours(['8928308280fffff', '85283473fffffff'], 1)).toThrow(/resolution/);
    expect(() => h3Neighbours(['8928308280fffff', '8928308280fffff'], 1)).toThrow(/duplicate/);
  });

  it('h3StudyArea buffers the cells with data by k rings; withZeroCells fills the rest with 0', () => {
    const origin = '8928308280fffff';
    const area = h3StudyArea(gridDisk(origin, 1), 1);
    expect(new Set(area)).toEqual(new Set(gridDisk(origin, 2)));
    const filled = withZeroCells(new Map([[origin, 5], ['85283473fffffff', 9]]), area);
    expect([...filled.keys()]).toEqual(area);
    expect([...filled.values()].reduce((s, v) => s + v, 0)).toBe(5); // outside cell left out
    expect(filled.get(origin)).toBe(5);
  });
});

describe('planted hot spot on an H3 grid', () => {
  const centre = latLngToCell(37.7749, -122.4194, 8);
  const hot = gridDisk(centre, 1);
  const area = gridDisk(centre, 8); // 217 cells
  const filled = withZeroCells(new Map(hot.map((c) => [c, 20])), area);
  const cells = [...filled.keys()];
  const gi = getisOrdGiStar([...filled.values()], h3Neighbours(cells, 1));
  const bins = confidenceBins(gi.map((g) => g.z), gi.map((g) => g.p), { fdr: true });

  it('the planted disk bins +3 with FDR', () => {
    for (const c of hot) expect(bins[cells.indexOf(c)]).toBe(3);
  });

  it('cells three or more rings from the disk bin 0, and nothing is a cold spot', () => {
    cells.forEach((c, i) => {
      if (gridDistance(centre, c) >= 4) expect(bins[i]).toBe(0);
    });
    expect(bins.every((b) => b >= 0)).toBe(true);
  });

  it('the centre p-value is tiny but not rounded to 0', () => {
    const g = gi[cells.indexOf(centre)];
    expect(g.z).toBeGreaterThan(10);
    expect(g.p).toBeGreaterThan(0);
    expect(g.p).toBeLessThan(1e-20);
  });

  it('without the zero cells there is nothing to compare with', () => {
    const only = getisOrdGiStar(hot.map(() => 20), h3Neighbours(hot, 1));
    expect(only.every((g) => Number.isNaN(g.z))).toBe(true);
  });
});

describe("Local Moran's I (esda Moran_Local definitions)", () => {
  it('hand-worked I on a path 1–2–3–4: 0.45, 0.15, 0.15, 0.45', () => {
    // mean 2.5, population SD √1.25; z = (−1.5, −.5, .5, 1.5)/√1.25; I_i = (n−1)/n · z_i · lag_i.
    const r = localMoran([1, 2, 3, 4], [[1], [0, 2], [1, 3], [2]], { permutations: 99, seed: 1 });
    [0.45, 0.15, 0.15, 0.45].forEach((I, i) => expect(r[i].I).toBeCloseTo(I, 12));
    expect(r[0].z).toBeCloseTo(-1.5 / Math.sqrt(1.25), 12);
    expect(r[1].lag).toBeCloseTo(-0.5 / Math.sqrt(1.25), 12);
  });

  // 12 × 12 queen grid. Background ≈ 5; a 5 × 5 block of 10 with a 0 at its centre (3,3); a
  // 5 × 5 block of 0 with a 10 at its centre (9,9).
  const size = 12;
  const at = (r: number, c: number) => r * size + c;
  const values: number[] = [];
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      let v = 5 + (((r * 7 + c * 3) % 5) - 2) * 0.2;
      if (r >= 1 && r <= 5 && c >= 1 && c <= 5) v = r === 3 && c === 3 ? 0 : 10;
      if (r >= 7 && r <= 11 && c >= 7 && c <= 11) v = r === 9 && c === 9 ? 10 : 0;
      values.push(v);
    }
  }
  const queen: number[][] = [];
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const row: number[] = [];
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr;
          const cc = c + dc;
          if ((dr || dc) && rr >= 0 && rr < size && cc >= 0 && cc < size) row.push(at(rr, cc));
        }
      }
      queen.push(row);
    }
  }
  const result = localMoran(values, queen, { permutations: 999, seed: 42 });

  it('high block is HH, the low hole inside it LH', () => {
    for (const [r, c] of [[2, 2], [2, 4], [4, 2], [4, 4], [1, 3]]) expect(result[at(r, c)].cluster).toBe('HH');
    expect(result[at(3, 3)].cluster).toBe('LH');
  });

  it('low block is LL, the high spike inside it HL', () => {
    for (const [r, c] of [[8, 8], [8, 10], [10, 8], [10, 10]]) expect(result[at(r, c)].cluster).toBe('LL');
    expect(result[at(9, 9)].cluster).toBe('HL');
  });

  it('background far from both blocks is not significant', () => {
    for (const [r, c] of [[0, 11], [11, 0], [0, 9], [9, 0]]) expect(result[at(r, c)].cluster).toBe('not significant');
  });

  it('pseudo p-values are deterministic for a seed and on the (k+1)/(R+1) lattice', () => {
    const again = localMoran(values, queen, { permutations: 999, seed: 42 });
    expect(again.map((r) => r.p)).toEqual(result.map((r) => r.p));
    for (const r of result) {
      const m = r.p * 1000 - 1;
      expect(Math.abs(m - Math.round(m))).toBeLessThan(1e-9);
      expect(r.p).toBeLessThanOrEqual(0.5 + 1e-12);
    }
  });

  it('conditional permutation draws from the other n − 1 values, never the cell itself', () => {
    // Cell 0 (value 3, z > 0) has the single neighbour 1 (3.5). A draw reaches I_0 exactly when
    // the drawn value is ≥ 3.5: cells 1 and 4 of the other four, so #sim ≥ I ≈ R/2 and the
    // folded p ≈ 0.5. Drawing from all five would give 2/5 (p ≈ 0.4); from cells 0–3, 1/4.
    const r = localMoran([3, 3.5, 0, 1, 4], [[1], [0], [3], [2], [3]], { permutations: 9999, seed: 5 });
    expect(r[0].p).toBeGreaterThan(0.47);
  });

  it('p-values are those of the plain conditional permutation through seededRandom, draw for draw', () => {
    // The permutation loop keeps mulberry32's state in a local for speed; this is the loop as
    // first written (a closure over seededRandom and a tracked pool), the definition it must match.
    const reference = (vals: number[], nbs: number[][], permutations: number, seed: number) => {
      const n = vals.length;
      const random = seededRandom(seed);
      const mean = vals.reduce((s, x) => s + x, 0) / n;
      const sd = Math.sqrt(vals.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
      const z = vals.map((x) => (sd > 0 ? (x - mean) / sd : 0));
      const scale = (n - 1) / z.reduce((s, v) => s + v * v, 0);
      const pool = Array.from({ length: n }, (_, j) => j);
      const slot = Array.from({ length: n }, (_, j) => j);
      const swap = (a: number, b: number) => {
        const va = pool[a];
        const vb = pool[b];
        pool[a] = vb;
        pool[b] = va;
        slot[vb] = a;
        slot[va] = b;
      };
      return nbs.map((raw, i) => {
        const row = [...new Set(raw)].filter((j) => j !== i);
        const k = row.length;
        if (k === 0) return Number.NaN;
        const I = scale * z[i] * (row.reduce((s, j) => s + z[j], 0) / k);
        swap(slot[i], n - 1);
        let larger = 0;
        for (let r = 0; r < permutations; r++) {
          let sum = 0;
          for (let t = 0; t < k; t++) {
            swap(t, t + Math.floor(random() * (n - 1 - t)));
            sum += z[pool[t]];
          }
          if (scale * z[i] * (sum / k) >= I) larger++;
        }
        return (Math.min(larger, permutations - larger) + 1) / (permutations + 1);
      });
    };
    expect(localMoran(values, queen, { permutations: 999, seed: 42 }).map((r) => r.p)).toEqual(reference(values, queen, 999, 42));
    // A ragged graph: 0–7 neighbours, duplicates, self-loops and islands, counts with ties.
    const rnd = seededRandom(2026);
    const n = 300;
    const counts = Array.from({ length: n }, () => Math.floor(rnd() * 6) * Math.floor(rnd() * 4));
    const ragged = Array.from({ length: n }, (_, i) => Array.from({ length: Math.floor(rnd() * 8) }, () => (rnd() < 0.1 ? i : Math.floor(rnd() * n))));
    for (const seed of [1, 311, 4_000_000_000]) {
      const got = localMoran(counts, ragged, { permutations: 199, seed }).map((r) => r.p);
      expect(got).toEqual(reference(counts, ragged, 199, seed));
      expect(got.filter((p) => Number.isNaN(p)).length).toBeGreaterThan(0);
    }
  });

  it('in turns of the event loop: the same results, the loop given back between cells', async () => {
    const sync = localMoran(values, queen, { permutations: 999, seed: 42 });
    let resultsAtFirstTurn: unknown = 'not yet';
    let done = false;
    setImmediate(() => (resultsAtFirstTurn = done));
    // 144 cells × about 7 neighbours × 999 draws, 20,000 draws a turn: dozens of turns.
    const inTurns = await localMoranInTurns(values, queen, { permutations: 999, seed: 42 }, new Pacer(20_000));
    done = true;
    expect(resultsAtFirstTurn).toBe(false);
    expect(inTurns).toEqual(sync);
  });

  it('an island gets no p-value and is never significant', () => {
    const r = localMoran([1, 9, 1, 9, 100], [[1], [0, 2], [1, 3], [2], []], { permutations: 99 });
    expect(Number.isNaN(r[4].p)).toBe(true);
    expect(r[4].cluster).toBe('not significant');
  });

  it('on spatially independent noise about 5 % of cells come out significant', () => {
    let s = 7;
    const noise = values.map(() => {
      s = (s * 48271) % 2147483647; // Park–Miller: exact in doubles
      return s / 2147483647;
    });
    const sig = localMoran(noise, queen, { permutations: 999, seed: 3 }).filter((r) => r.cluster !== 'not significant');
    expect(sig.length / noise.length).toBeLessThan(0.12);
  });
});
