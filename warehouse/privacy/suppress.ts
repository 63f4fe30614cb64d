// Primary and complementary cell suppression for a cube of counts with all its margins
// (cube.ts), by the hypercube method (Repsilber's GHMITER, as τ-ARGUS implements it for
// statistical agencies), generalised to hierarchical axes:
//
// 1. Primary: every cell (interior or margin) with 1 ≤ value ≤ k is suppressed.
// 2. Complementary: each primary cell that is not yet protected gets a "hypercube" of suppressed
//    cells around it — on every axis two nodes (or a short chain, on a hierarchy) so that adding
//    t to the cells of one sign and subtracting t from the others changes no total anywhere in
//    the cube. Every value that pattern can take without going negative is consistent with every
//    published cell and margin; the pattern is chosen only if that range is at least k wide, and
//    the cheapest such pattern (fewest, smallest, least aggregated new suppressions) wins.
//
// Each suppressed cell keeps the pattern that protects it as a certificate: a perturbation that
// proves its feasible range is at least k wide. Suppressing more cells only widens the feasible
// set, so certificates stay valid as later patterns are added. verifyProtection re-checks every
// certificate against the cube's lines; the tests also audit the result with an LP solver
// (lp-audit.ts), which computes each suppressed cell's exact range.
import type { Cube } from './cube.ts';
import { nextTurn } from '../turns.ts';

export const PUBLISHED = 0;
export const PRIMARY = 1;
export const COMPLEMENTARY = 2;

export interface ProtectOptions {
  /** Threshold: counts 1..k are suppressed, and every suppressed cell's feasible range must be at least k wide. */
  k: number;
  /**
   * Cells the public knows without being told (structural zeros, e.g. a sensitive service in a real
   * area): never suppressed, never used as a complement.
   */
  known?: (index: number) => boolean;
  /** false: primary suppression only (for the audit's negative test; never for publication). */
  complementary?: boolean;
}

export interface Certificate {
  /** Cells the perturbation moves, and how much each moves per unit of the protected cell (±1 for one hypercube). */
  corners: Int32Array;
  coefs: Float64Array;
  /** How far the perturbation can go down (A) and up (B), in units of the protected cell, before a cell goes negative. */
  down: number;
  up: number;
}

export interface Protection {
  k: number;
  /** PUBLISHED, PRIMARY or COMPLEMENTARY per cell. */
  state: Uint8Array;
  certificates: Certificate[];
  /** Index into certificates for each suppressed cell (−1: none, e.g. published or primary-only). */
  certificateOf: Int32Array;
  stats: { primary: number; complementary: number; patterns_tried: number; stars: number };
}

interface AxisPattern {
  nodes: number[];
  signs: number[];
}

/** Ways down from a node to leaves, one child per partition at every node (all moving with the node). */
function downTrees(cube: Cube, axis: number, i: number): number[][] {
  let combos: number[][] = [[i]];
  for (const part of cube.axes[axis].nodes[i].partitions) {
    const options = part.flatMap((c) => downTrees(cube, axis, c));
    combos = combos.flatMap((acc) => options.map((o) => [...acc, ...o]));
  }
  return combos;
}

/**
 * The minimal {−1, 0, +1} vectors along one axis that contain node i with sign +1 and keep every
 * equation of the axis (node = Σ each of its partitions) balanced: a way down from i to leaves,
 * then up through i's ancestors — either across, at some ancestor, to a sibling branch going down
 * with sign −, or on up to the total (every ancestor moving with i, and each of an ancestor's
 * other partitions contributing a way down with sign +).
 */
export function axisPatterns(cube: Cube, axis: number, i: number): AxisPattern[] {
  const nodes = cube.axes[axis].nodes;
  const out: AxisPattern[] = [];
  const climb = (x: number, plus: number[]) => {
    const q = nodes[x].parent;
    if (q < 0) {
      out.push({ nodes: plus, signs: plus.map(() => 1) });
      return;
    }
    const own = nodes[q].partitions.find((part) => part.includes(x))!;
    for (const y of own) {
      if (y === x) continue;
      for (const t of downTrees(cube, axis, y)) out.push({ nodes: [...plus, ...t], signs: [...plus.map(() => 1), ...t.map(() => -1)] });
    }
    let combos: number[][] = [[...plus, q]];
    for (const part of nodes[q].partitions) {
      if (part === own) continue;
      const options = part.flatMap((c) => downTrees(cube, axis, c));
      combos = combos.flatMap((acc) => options.map((o) => [...acc, ...o]));
    }
    for (const c of combos) climb(q, c);
  };
  for (const down of downTrees(cube, axis, i)) climb(i, down);
  return out;
}

/** Cost weight of a cell's aggregation level: a margin is worth far more to readers than an interior cell. */
function levelWeight(cube: Cube, index: number): number {
  let w = 1;
  cube.axes.forEach((axis, a) => {
    const node = axis.nodes[cube.coord(index, a)];
    if (node.depth === 0) w *= 1000;
    else if (node.partitions.length > 0) w *= 30;
  });
  return w;
}

export const isSensitiveCount = (value: number, k: number) => value >= 1 && value <= k;

const EPS = 1e-9;
/** Most hypercubes one star may combine. */
const MAX_STAR = 48;

/** Width of a perturbation given as cell → coefficient: how far it moves the unit cell down (A) and up (B) before any cell goes negative. */
function rangeOf(coefs: Map<number, number>, values: ArrayLike<number>): { down: number; up: number } {
  let down = Infinity;
  let up = Infinity;
  for (const [c, a] of coefs) {
    if (a > EPS) down = Math.min(down, values[c] / a);
    else if (a < -EPS) up = Math.min(up, values[c] / -a);
  }
  return { down, up };
}

/**
 * Suppresses every count 1..k and then enough other cells that no suppressed cell can be narrowed
 * to a range less than k wide from the published cells and margins (with non-negativity).
 * `values` must be additive along every line of the cube.
 *
 * For each cell that needs protection, in turn: the cheapest single hypercube whose range is at
 * least k wide, or — where the neighbourhood is sparse and no single hypercube is wide enough
 * without reaching up to the margins — a star: the average of several hypercubes through the
 * cell (a convex combination of valid perturbations is one), which moves each neighbour by only
 * a fraction of what the cell moves. Cells a star suppresses but does not itself protect by k
 * get their own turn.
 */
export function protect(cube: Cube, values: ArrayLike<number>, opts: ProtectOptions): Protection {
  const run = protectSteps(cube, values, opts);
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
  }
}

/**
 * The same, giving the event loop a turn every few milliseconds: a large city's release takes
 * seconds to protect, and a server must not stall other requests meanwhile.
 */
export async function protectAsync(cube: Cube, values: ArrayLike<number>, opts: ProtectOptions & { sliceMs?: number }): Promise<Protection> {
  const run = protectSteps(cube, values, opts);
  const slice = opts.sliceMs ?? 20;
  let since = performance.now();
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
    if (performance.now() - since >= slice) {
      await nextTurn();
      since = performance.now();
    }
  }
}

/** protect's work, yielding after each cell it protects. */
function* protectSteps(cube: Cube, values: ArrayLike<number>, opts: ProtectOptions): Generator<void, Protection> {
  const { k } = opts;
  if (!(k >= 1)) throw new Error(`protect: k must be at least 1 (got ${k})`);
  const known = opts.known ?? (() => false);
  const state = new Uint8Array(cube.size);
  const certificateOf = new Int32Array(cube.size).fill(-1);
  const certificates: Certificate[] = [];
  const primaries: number[] = [];
  for (let i = 0; i < cube.size; i++) {
    if (!known(i) && isSensitiveCount(values[i], k)) {
      state[i] = PRIMARY;
      primaries.push(i);
    }
  }
  const stats = { primary: primaries.length, complementary: 0, patterns_tried: 0, stars: 0 };
  if (opts.complementary === false) return { k, state, certificates, certificateOf, stats };

  const weight = new Float64Array(cube.size);
  const knownMask = new Uint8Array(cube.size);
  for (let i = 0; i < cube.size; i++) {
    knownMask[i] = known(i) ? 1 : 0;
    weight[i] = (values[i] + 1) * levelWeight(cube, i);
  }
  // Margins first (their patterns reach into the interior and often protect interior cells on the way), then larger values.
  const level = (i: number) => cube.axes.reduce((s, ax, a) => s + (ax.isLeaf(cube.coord(i, a)) ? 0 : 1), 0);
  primaries.sort((a, b) => level(b) - level(a) || values[b] - values[a] || a - b);

  const patternCache = cube.axes.map(() => new Map<number, { offsets: Int32Array; signs: Int8Array }[]>());
  const patternsOf = (axis: number, node: number) => {
    let hit = patternCache[axis].get(node);
    if (!hit) {
      const stride = cube.strides[axis];
      hit = axisPatterns(cube, axis, node).map((p) => ({ offsets: Int32Array.from(p.nodes, (n) => (n - node) * stride), signs: Int8Array.from(p.signs) }));
      patternCache[axis].set(node, hit);
    }
    return hit;
  };

  const n = cube.axes.length;
  let cornerIdx = new Int32Array(64);
  let cornerSign = new Int8Array(64);
  // Per candidate of the current cell, only scalars are kept (its number, cost, room); the few
  // chosen are rebuilt. Millions of candidates in a large release must not each allocate.
  let candCost = new Float64Array(1024);
  let candUp = new Float64Array(1024);
  let candDown = new Float64Array(1024);

  /** The corners of combination `code` of the per-axis patterns (mixed radix), into the scratch arrays; returns how many. */
  const pick = new Int32Array(n);
  const expand = (p: number, perAxis: { offsets: Int32Array; signs: Int8Array }[][], code: number): number => {
    let count = 1;
    for (let a = n - 1; a >= 0; a--) {
      pick[a] = code % perAxis[a].length;
      code = Math.floor(code / perAxis[a].length);
      count *= perAxis[a][pick[a]].offsets.length;
    }
    if (count > cornerIdx.length) {
      cornerIdx = new Int32Array(count);
      cornerSign = new Int8Array(count);
    }
    cornerIdx[0] = p;
    cornerSign[0] = 1;
    let filled = 1;
    for (let a = 0; a < n; a++) {
      const pat = perAxis[a][pick[a]];
      const m = pat.offsets.length;
      // Expand in place from the back so entries are not overwritten before they are read.
      for (let c = filled - 1; c >= 0; c--) {
        const base = cornerIdx[c];
        const sign = cornerSign[c];
        for (let j = m - 1; j >= 0; j--) {
          cornerIdx[c * m + j] = base + pat.offsets[j];
          cornerSign[c * m + j] = sign * pat.signs[j];
        }
      }
      filled *= m;
    }
    return filled;
  };

  const worklist = [...primaries];
  const queued = new Uint8Array(cube.size);
  for (const p of primaries) queued[p] = 1;
  for (let w = 0; w < worklist.length; w++) {
    const p = worklist[w];
    if (certificateOf[p] >= 0) continue;
    const perAxis = cube.axes.map((_, a) => patternsOf(a, cube.coord(p, a)));
    const combos = perAxis.reduce((m, ps) => m * ps.length, 1);
    if (combos > candCost.length) {
      candCost = new Float64Array(combos);
      candUp = new Float64Array(combos);
      candDown = new Float64Array(combos);
    }
    let single = -1;
    for (let code = 0; code < combos; code++) {
      stats.patterns_tried++;
      const filled = expand(p, perAxis, code);
      let cost = 0;
      let down = Infinity;
      let up = Infinity;
      for (let c = 0; c < filled; c++) {
        const idx = cornerIdx[c];
        if (knownMask[idx]) {
          cost = Infinity;
          break;
        }
        if (cornerSign[c] > 0) down = Math.min(down, values[idx]);
        else up = Math.min(up, values[idx]);
        if (state[idx] === PUBLISHED) cost += weight[idx];
      }
      candCost[code] = cost;
      candUp[code] = up;
      candDown[code] = down;
      if (cost < Infinity && down + up >= k) {
        if (single < 0 || cost < candCost[single] || (cost === candCost[single] && down + up > candDown[single] + candUp[single])) single = code;
      }
    }
    const singleCost = single < 0 ? Infinity : candCost[single];
    // A star from the cheapest hypercubes that are cheaper than the best single one and whose
    // cells going down are not zero (a zero there stops the star).
    let star: { coefs: Map<number, number>; cost: number; down: number; up: number } | null = null;
    if (singleCost > 0) {
      const usable: number[] = [];
      for (let code = 0; code < combos; code++) if (candUp[code] > 0 && candCost[code] < singleCost) usable.push(code);
      usable.sort((a, b) => candCost[a] - candCost[b] || a - b);
      const sum = new Map<number, number>();
      for (let m = 1; m <= Math.min(MAX_STAR, usable.length); m++) {
        const filled = expand(p, perAxis, usable[m - 1]);
        for (let c = 0; c < filled; c++) sum.set(cornerIdx[c], (sum.get(cornerIdx[c]) ?? 0) + cornerSign[c]);
        const coefs = new Map([...sum].map(([cell, s]) => [cell, s / m]));
        const r = rangeOf(coefs, values);
        if (r.down + r.up >= k) {
          let cost = 0;
          for (const cell of coefs.keys()) if (state[cell] === PUBLISHED) cost += weight[cell];
          if (cost < singleCost) star = { coefs, cost, ...r };
          break;
        }
      }
    }
    let cert: Certificate;
    if (star) {
      stats.stars++;
      const cells = [...star.coefs.keys()];
      cert = { corners: Int32Array.from(cells), coefs: Float64Array.from(cells, (c) => star!.coefs.get(c)!), down: star.down, up: star.up };
    } else if (single >= 0) {
      const filled = expand(p, perAxis, single);
      cert = { corners: cornerIdx.slice(0, filled), coefs: Float64Array.from(cornerSign.subarray(0, filled)), down: candDown[single], up: candUp[single] };
    } else {
      throw new Error(`protect: no pattern protects cell ${JSON.stringify(cube.describe(p))}`);
    }
    const id = certificates.length;
    certificates.push(cert);
    const width = cert.down + cert.up;
    cert.corners.forEach((c, j) => {
      if (Math.abs(cert.coefs[j]) <= EPS) return;
      if (state[c] === PUBLISHED) {
        state[c] = COMPLEMENTARY;
        stats.complementary++;
      }
      if (certificateOf[c] < 0 && width * Math.abs(cert.coefs[j]) >= k - EPS) certificateOf[c] = id;
      else if (certificateOf[c] < 0 && !queued[c]) {
        // Suppressed, but this perturbation moves it by less than k: it needs its own.
        queued[c] = 1;
        worklist.push(c);
      }
    });
    yield;
  }
  return { k, state, certificates, certificateOf, stats };
}

/**
 * Re-checks a protection without trusting how it was made: every count 1..k is suppressed, no
 * known cell is, every suppressed cell has a certificate that moves it by at least k, every
 * certificate moves only suppressed cells and keeps every line of the cube balanced, and its
 * range is what it claims. Returns the problems found (none: safe to publish).
 */
export function verifyProtection(cube: Cube, values: ArrayLike<number>, prot: Protection, known: (index: number) => boolean = () => false): string[] {
  const problems: string[] = [];
  const where = (i: number) => JSON.stringify(cube.describe(i));
  const widths = prot.certificates.map((cert, id) => {
    const coefs = new Map<number, number>();
    cert.corners.forEach((c, j) => coefs.set(c, cert.coefs[j]));
    for (const [c, a] of coefs) if (Math.abs(a) > EPS && (prot.state[c] === PUBLISHED || known(c))) problems.push(`certificate ${id} moves ${where(c)}, which is published`);
    const r = rangeOf(coefs, values);
    if (r.down < cert.down - EPS || r.up < cert.up - EPS) problems.push(`certificate ${id} claims more room than it has`);
    // Every line through a moved cell: Σ parts' coefficients = the total's.
    const seen = new Set<string>();
    for (const c of coefs.keys()) {
      cube.axes.forEach((axis, a) => {
        const node = cube.coord(c, a);
        const stride = cube.strides[a];
        for (const total of [node, axis.nodes[node].parent]) {
          if (total < 0) continue;
          axis.nodes[total].partitions.forEach((part, pi) => {
            const totalIdx = c + (total - node) * stride;
            const key = `${a}:${totalIdx}:${pi}`;
            if (seen.has(key)) return;
            seen.add(key);
            let balance = coefs.get(totalIdx) ?? 0;
            for (const kid of part) balance -= coefs.get(totalIdx + (kid - total) * stride) ?? 0;
            if (Math.abs(balance) > 1e-7) problems.push(`certificate ${id} unbalances the line of ${where(totalIdx)} along ${axis.name}`);
          });
        }
      });
    }
    return { coefs, width: r.down + r.up };
  });
  for (let i = 0; i < cube.size; i++) {
    const suppressed = prot.state[i] !== PUBLISHED;
    if (known(i) && suppressed) problems.push(`${where(i)} is known to the public but marked suppressed`);
    if (!known(i) && isSensitiveCount(values[i], prot.k) && !suppressed) problems.push(`${where(i)} = ${values[i]} is published`);
    if (suppressed) {
      const id = prot.certificateOf[i];
      if (id < 0) problems.push(`${where(i)} is suppressed without a certificate`);
      else {
        const { coefs, width } = widths[id];
        const moved = width * Math.abs(coefs.get(i) ?? 0);
        if (moved < prot.k - 1e-7) problems.push(`${where(i)}: its certificate moves it over only ${moved}`);
      }
    }
  }
  return problems;
}
