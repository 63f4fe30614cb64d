// Statistics behind the hot-spot maps: Getis–Ord Gi* on an H3 grid (PySAL esda / ArcGIS
// formulation), Benjamini–Hochberg control over the confidence bins, and Local Moran's I
// (esda Moran_Local) for outliers. Pure functions: the warehouse supplies counts per cell.
//
// Zero cells: Gi* compares each neighbourhood with the mean and spread of *every* cell in the
// study area, so cells with no cases must be present with a 0. Leaving them out raises the mean
// and shrinks the variance, and a real cluster surrounded by empty streets stops standing out.
// Build the area with `h3StudyArea` (or h3-js `polygonToCells` on the city boundary, which is
// better when a boundary is at hand), then `withZeroCells(counts, area)`, then
// `getisOrdGiStar([...filled.values()], h3Neighbours([...filled.keys()], k))`.

import { getResolution, gridDisk } from 'h3-js';

// ---------------------------------------------------------------------------------------------
// Normal tail, full precision

// The normal tail comes from stats.ts (Cody's erfc), shared with the trend tests.
import { twoSidedP } from './distributions.ts';
import { mulberry32Step, mulberry32Value } from './random.ts';
import { forEachInTurns, mapInTurns, type Pacer, type Stepwise } from '../turns.ts';

export { erfc, twoSidedP, normalSf as normalUpperTail } from './distributions.ts';

// ---------------------------------------------------------------------------------------------
// Neighbour lists

/**
 * Neighbours within Euclidean distance `threshold` (inclusive), excluding the point itself
 * (libpysal DistanceBand convention; Gi* adds self). For projected coordinates only.
 */
export function distanceBandNeighbours(points: readonly (readonly [number, number])[], threshold: number): number[][] {
  // Squared distances keep integer grids exact; the relative slack keeps "exactly threshold
  // apart" inclusive when coordinates arrive as decimals that do not round-trip.
  const limit = threshold * threshold * (1 + 1e-12);
  return points.map(([xi, yi], i) => {
    const out: number[] = [];
    points.forEach(([xj, yj], j) => {
      if (j !== i && (xi - xj) ** 2 + (yi - yj) ** 2 <= limit) out.push(j);
    });
    return out;
  });
}

function assertIndices(neighbours: readonly (readonly number[])[], n: number): void {
  neighbours.forEach((row, i) => {
    for (const j of row) {
      if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`neighbours[${i}] lists ${j}, outside 0..${n - 1}`);
    }
  });
}

function assertOneResolution(cells: readonly string[]): void {
  if (cells.length === 0) return;
  const res = getResolution(cells[0]);
  for (const c of cells) {
    if (getResolution(c) !== res) throw new Error(`H3 cells mix resolutions (${cells[0]} is ${res}, ${c} is ${getResolution(c)})`);
  }
}

/**
 * For each cell, the indices of the listed cells inside gridDisk(cell, k), self included
 * (binary k-ring weights). Cells outside the list are simply absent, so the list must already
 * hold the zero-count cells of the study area.
 */
export function h3Neighbours(cells: readonly string[], k: number): number[][] {
  const index = cellIndex(cells, k);
  return cells.map((c) => neighboursIn(index, c, k));
}

/** h3Neighbours, a slice of cells per turn of the event loop (gridDisk is some 20 µs a cell: a city's 10,000 cells are 0.2 s). */
export async function h3NeighboursInTurns(cells: readonly string[], k: number): Promise<number[][]> {
  const index = cellIndex(cells, k);
  return mapInTurns(cells, (c) => neighboursIn(index, c, k), CELLS_PER_TURN);
}

/** Cells looked up per turn of the event loop: a few milliseconds of gridDisk. */
const CELLS_PER_TURN = 100;

function cellIndex(cells: readonly string[], k: number): Map<string, number> {
  if (!Number.isInteger(k) || k < 0) throw new Error(`k must be a non-negative integer, got ${k}`);
  assertOneResolution(cells);
  const index = new Map<string, number>();
  cells.forEach((c, i) => {
    if (index.has(c)) throw new Error(`duplicate H3 cell ${c}`);
    index.set(c, i);
  });
  return index;
}

function neighboursIn(index: ReadonlyMap<string, number>, cell: string, k: number): number[] {
  const out: number[] = [];
  for (const d of gridDisk(cell, k)) {
    const j = index.get(d);
    if (j !== undefined) out.push(j);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Study area when no boundary polygon is available: every cell within k rings of a cell with
 * data (k = the Gi* ring size, so every cell whose neighbourhood touches a case is tested).
 * Going wider would add empty far field that lowers the mean and inflates every z-score.
 * Sorted, so results do not depend on the order counts arrived in.
 */
export function h3StudyArea(cells: readonly string[], k = 1): string[] {
  assertOneResolution(cells);
  const area = new Set<string>();
  for (const c of cells) addDisk(area, c, k);
  return [...area].sort();
}

const addDisk = (area: Set<string>, cell: string, k: number) => {
  for (const d of gridDisk(cell, k)) area.add(d);
};

/** h3StudyArea, a slice of cells per turn of the event loop. */
export async function h3StudyAreaInTurns(cells: readonly string[], k = 1): Promise<string[]> {
  assertOneResolution(cells);
  const area = new Set<string>();
  await forEachInTurns(cells, (c) => addDisk(area, c, k), CELLS_PER_TURN);
  return [...area].sort();
}

/**
 * Counts over exactly the study-area cells, in `areaCells` order, with 0 where nothing was
 * reported. Counts for cells outside the area are left out: the area defines the set of cells
 * the mean and variance are taken over.
 */
export function withZeroCells(counts: ReadonlyMap<string, number>, areaCells: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of areaCells) out.set(c, counts.get(c) ?? 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Getis–Ord Gi*

export interface GiStar {
  /** Gi* as a standard normal score; NaN when undefined (no variation, or a neighbourhood that is the whole area). */
  z: number;
  /** Two-sided normal p-value (esda's p_norm is one-sided; ArcGIS's bins are two-sided). */
  p: number;
}

/** Getis–Ord Gi* with binary weights including self; `neighbours[i]` may or may not list i. */
export function getisOrdGiStar(values: readonly number[], neighbours: readonly (readonly number[])[]): GiStar[] {
  const n = values.length;
  if (neighbours.length !== n) throw new Error(`neighbours has ${neighbours.length} rows for ${n} values`);
  assertIndices(neighbours, n);
  const mean = values.reduce((s, x) => s + x, 0) / n;
  const s = Math.sqrt(Math.max(0, values.reduce((acc, x) => acc + x * x, 0) / n - mean * mean));
  return neighbours.map((row, i) => {
    const set = new Set(row);
    set.add(i);
    let lag = 0;
    for (const j of set) lag += values[j];
    const w = set.size; // binary: Σw = Σw²
    const denom = s * Math.sqrt((n * w - w * w) / (n - 1));
    if (!(denom > 0)) return { z: Number.NaN, p: Number.NaN };
    const z = (lag - mean * w) / denom;
    return { z, p: twoSidedP(z) };
  });
}

// ---------------------------------------------------------------------------------------------
// Multiple testing

/** Benjamini–Hochberg adjusted p-values, as SciPy's false_discovery_control(method='bh'). */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const n = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
  const adjusted = new Array<number>(n);
  let running = 1;
  // Step-up: from the largest p down, keep the running minimum of p·n/rank (monotone in rank).
  for (let r = n; r >= 1; r--) {
    const i = order[r - 1];
    running = Math.min(running, (pValues[i] * n) / r);
    adjusted[i] = running;
  }
  return adjusted;
}

/**
 * esda's `fdr()`: the p-value cut-off (i/n)·α for the largest rank i with p_(i) < (i/n)·α, or
 * the Bonferroni bound α/n when no rank qualifies. NaN p-values are not tests and are skipped.
 */
export function fdrCutoff(pValues: readonly number[], alpha: number): number {
  const ps = pValues.filter((p) => !Number.isNaN(p)).sort((a, b) => a - b);
  const n = ps.length;
  // i·α/n in esda's operation order, so boundary cases round the same way.
  for (let i = n; i >= 1; i--) {
    const cut = (i * alpha) / n;
    if (ps[i - 1] < cut) return cut;
  }
  return alpha / n;
}

const LEVELS = [
  { bin: 3, alpha: 0.01 },
  { bin: 2, alpha: 0.05 },
  { bin: 1, alpha: 0.1 },
] as const;

/**
 * Hot/cold-spot bins: ±3/±2/±1 for 99/95/90 % confidence, 0 otherwise, signed by z. With
 * `fdr`, each level's cut-off is esda's BH cut-off for that α instead of α itself, so the
 * share of false hot spots among those shown is controlled, not the per-cell error rate.
 */
export function confidenceBins(z: readonly number[], p: readonly number[], options: { fdr: boolean }): number[] {
  if (z.length !== p.length) throw new Error('z and p differ in length');
  const cutoffs = LEVELS.map((l) => ({ bin: l.bin, cut: options.fdr ? fdrCutoff(p, l.alpha) : l.alpha }));
  return z.map((zi, i) => {
    const pi = p[i];
    if (Number.isNaN(zi) || Number.isNaN(pi) || zi === 0) return 0;
    const hit = cutoffs.find((c) => pi < c.cut);
    return hit ? Math.sign(zi) * hit.bin : 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Local Moran's I

export type MoranCluster = 'HH' | 'LL' | 'HL' | 'LH' | 'not significant';

export interface LocalMoran {
  /** I_i = (n−1)·z_i·lag_i / Σz², z standardized with the population SD (esda Moran_Local.Is). */
  I: number;
  /** Standardized value and its row-standardized spatial lag, which define the quadrant. */
  z: number;
  lag: number;
  /** Conditional-permutation pseudo p-value (esda p_sim, 'directed'); NaN for islands. */
  p: number;
  cluster: MoranCluster;
}

export const MORAN_ALPHA = 0.05;

/**
 * Local Moran's I with row-standardized weights over `neighbours` (self dropped if listed),
 * following esda's Moran_Local: quadrant from z_i > 0 and lag_i > 0 (zero counts as low),
 * pseudo p from conditional permutation — z_i held fixed, its neighbours replaced by a random
 * draw of as many of the other n−1 values — folded to the nearer tail:
 * p = (min(#sim ≥ I, #sim < I) + 1)/(permutations + 1). Significant when p < 0.05.
 */
export function localMoran(
  values: readonly number[],
  neighbours: readonly (readonly number[])[],
  options: { permutations?: number; seed?: number } = {},
): LocalMoran[] {
  const test = new LocalMoranTest(values, neighbours, options);
  while (!test.done) test.advance(Number.POSITIVE_INFINITY);
  return test.result();
}

/** localMoran, its permutations run a budget of draws at a time (a Pacer gives the event loop back between them). */
export async function localMoranInTurns(
  values: readonly number[],
  neighbours: readonly (readonly number[])[],
  options: { permutations?: number; seed?: number },
  pacer: Pacer,
): Promise<LocalMoran[]> {
  const test = new LocalMoranTest(values, neighbours, options);
  await pacer.run(test);
  return test.result();
}

/**
 * Local Moran's I and its conditional permutation test (localMoran), in steps: `advance(budget)`
 * tests cells until about `budget` draws are made. A city's 10,000 resolution-9 cells with 18
 * neighbours each are 90 million draws, a second or more: on a server they must not be one block.
 *
 * For each cell with neighbours: how many of `permutations` conditional draws give an I at least
 * its own — z_i held fixed, its k neighbours replaced by a uniform k-subset of the other n − 1
 * values. One seeded stream (mulberry32) runs through the cells in order, so a seed gives the
 * same p-values on every platform. All n indices sit in `pool` with i parked in the last slot, so
 * the first n − 1 are "the others"; a partial Fisher–Yates over the first k slots draws a uniform
 * k-subset whatever order earlier draws left them in, so the pool is never rebuilt. Everything
 * the inner loop touches is local (state, typed arrays): three times faster than through closures.
 */
class LocalMoranTest implements Stepwise {
  private readonly n: number;
  private readonly permutations: number;
  private readonly z: Float64Array;
  private readonly scale: number;
  private readonly rows: number[][];
  private readonly lags: number[];
  private readonly Is: number[];
  /** Per cell, the draws at least its I; null when nothing can be tested (no variance, no permutations). */
  private readonly larger: Int32Array | null;
  private readonly pool: Int32Array;
  /** The random stream's state (one number, carried from cell to cell), and the next cell to test. */
  private readonly state = new Uint32Array(1);
  private cell = 0;
  done: boolean;

  constructor(values: readonly number[], neighbours: readonly (readonly number[])[], options: { permutations?: number; seed?: number }) {
    const n = (this.n = values.length);
    if (neighbours.length !== n) throw new Error(`neighbours has ${neighbours.length} rows for ${n} values`);
    assertIndices(neighbours, n);
    this.permutations = options.permutations ?? 999;
    const mean = values.reduce((s, x) => s + x, 0) / n;
    const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
    const z = (this.z = Float64Array.from(values, (x) => (sd > 0 ? (x - mean) / sd : 0)));
    const den = z.reduce((s, v) => s + v * v, 0);
    this.scale = den > 0 ? (n - 1) / den : 0;
    this.rows = neighbours.map((row, i) => [...new Set(row)].filter((j) => j !== i));
    this.lags = this.rows.map((row) => (row.length > 0 ? row.reduce((s, j) => s + z[j], 0) / row.length : 0));
    this.Is = this.lags.map((lag, i) => this.scale * z[i] * lag);
    this.larger = den > 0 && this.permutations > 0 ? new Int32Array(n) : null;
    this.pool = new Int32Array(this.larger ? n : 0);
    for (let j = 0; j < this.pool.length; j++) this.pool[j] = j;
    this.state[0] = (options.seed ?? 12345) >>> 0;
    this.done = this.larger === null;
  }

  advance(budget: number): number {
    const { n, rows, permutations, pool, state } = this;
    const larger = this.larger!;
    let drawn = 0;
    let i = this.cell;
    for (; i < n && drawn < budget; i++) {
      const k = rows[i].length;
      if (k === 0) continue;
      const at = pool.indexOf(i);
      pool[at] = pool[n - 1];
      pool[n - 1] = i;
      larger[i] = drawsAtLeast(this.z, pool, k, this.scale * this.z[i], this.Is[i], permutations, state);
      drawn += k * permutations;
    }
    this.cell = i;
    if (i >= n) this.done = true;
    return Math.max(1, drawn);
  }

  result(): LocalMoran[] {
    if (!this.done) throw new Error('localMoran: the permutations are not done');
    const { z, lags, Is, larger, permutations } = this;
    return this.rows.map((row, i) => {
      const lag = lags[i];
      const I = Is[i];
      const quadrant: Exclude<MoranCluster, 'not significant'> =
        z[i] > 0 ? (lag > 0 ? 'HH' : 'HL') : lag > 0 ? 'LH' : 'LL';
      // An island has no neighbourhood to test; esda's permutation would call it significant.
      if (row.length === 0 || !larger) return { I, z: z[i], lag, p: Number.NaN, cluster: 'not significant' };
      const p = (Math.min(larger[i], permutations - larger[i]) + 1) / (permutations + 1);
      return { I, z: z[i], lag, p, cluster: p < MORAN_ALPHA ? quadrant : 'not significant' };
    });
  }
}

/**
 * One cell's permutations (LocalMoranTest): `permutations` draws of k of the other values (the
 * first n − 1 slots of `pool`), each a partial Fisher–Yates from mulberry32; how many give
 * zi·mean ≥ I. The stream's state comes in and goes out in `state`; everything else is local, in
 * a function of its own, which V8 optimises as a whole (the same loop inside a method ran 60% slower).
 */
function drawsAtLeast(z: Float64Array, pool: Int32Array, k: number, zi: number, I: number, permutations: number, state: Uint32Array): number {
  const others = pool.length - 1;
  let a = state[0];
  let count = 0;
  for (let r = 0; r < permutations; r++) {
    let sum = 0;
    for (let t = 0; t < k; t++) {
      a = mulberry32Step(a);
      const b = t + Math.floor(mulberry32Value(a) * (others - t));
      const pick = pool[b];
      pool[b] = pool[t];
      pool[t] = pick;
      sum += z[pick];
    }
    if (zi * (sum / k) >= I) count++;
  }
  state[0] = a;
  return count;
}
