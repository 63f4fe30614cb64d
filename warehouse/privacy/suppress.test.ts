// Suppression, audited as statistical agencies audit it: an LP solver (HiGHS) computes each
// suppressed cell's smallest and largest value consistent with everything published (cells,
// margins, non-negativity), on hand-made tables and on thousands of random ones (fast-check).
// Criterion: every suppressed cell's feasible range is at least k wide.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Axis, Cube } from './cube.ts';
import { axisPatterns, COMPLEMENTARY, PRIMARY, protect, protectAsync, PUBLISHED, verifyProtection } from './suppress.ts';
import { auditSuppression } from './lp-audit.ts';

const K = 10;
const suppressedBy = (state: Uint8Array) => (i: number) => state[i] !== PUBLISHED;

/** A cube from leaf values given in leaf order (axes' leaves, row-major). */
function cubeOf(axes: Axis[], leafValues: number[]) {
  const cube = new Cube(axes);
  const leaves = axes.map((a) => a.leavesUnder(0));
  const entries: [number[], number][] = [];
  let n = 0;
  const walk = (prefix: number[]) => {
    if (prefix.length === axes.length) entries.push([prefix, leafValues[n++]]);
    else for (const l of leaves[prefix.length]) walk([...prefix, l]);
  };
  walk([]);
  return { cube, values: cube.aggregate(entries) };
}

function hierarchy(name: string, groups: number[]): Axis {
  const axis = new Axis(name);
  groups.forEach((size, g) => {
    for (let s = 0; s < size; s++) axis.node([`g${g}`, `s${g}.${s}`]);
  });
  return axis;
}

describe('axis patterns', () => {
  it('each keeps every equation of its axis balanced and contains its node with sign +', () => {
    const split = new Axis('rows');
    for (const [g, sv] of [['g0', 's0'], ['g0', 's1'], ['g1', 's2']]) split.node([g, sv], 'service');
    for (const a of ['N', 'S', 'E']) split.node([a], 'area');
    for (const axis of [Axis.flat('a', ['x', 'y', 'z']), hierarchy('s', [2, 1, 3]), split]) {
      const cube = new Cube([axis]);
      for (let i = 0; i < axis.size; i++) {
        const patterns = axisPatterns(cube, 0, i);
        expect(patterns.length).toBeGreaterThan(0);
        for (const p of patterns) {
          expect(p.signs[p.nodes.indexOf(i)]).toBe(1);
          const sign = new Map(p.nodes.map((n, j) => [n, p.signs[j]]));
          for (const line of cube.lines()) {
            expect((sign.get(line.total) ?? 0) - line.parts.reduce((s, q) => s + (sign.get(q) ?? 0), 0)).toBe(0);
          }
        }
      }
    }
  });
});

describe('suppression on small tables', () => {
  it('1-D: a small count and one complement large enough that the pair spans at least k', async () => {
    const { cube, values } = cubeOf([Axis.flat('area', ['N', 'S', 'E'])], [5, 30, 40]);
    const prot = protect(cube, values, { k: K });
    expect([...prot.state]).toEqual([PUBLISHED, PRIMARY, COMPLEMENTARY, PUBLISHED]); // total, N, S, E
    expect(verifyProtection(cube, values, prot)).toEqual([]);
    const audit = await auditSuppression(cube, values, suppressedBy(prot.state), { k: K, exact: true });
    expect(audit.ranges.map((r) => [r.lo, r.hi])).toEqual([[0, 35], [0, 35]]);
    expect(audit.narrow).toEqual([]);
  });

  it('suppresses margins that are themselves small, and never shows a count 1..k', () => {
    const { cube, values } = cubeOf([Axis.flat('service', ['a', 'b']), Axis.flat('area', ['N', 'S'])], [3, 0, 2, 0]);
    const prot = protect(cube, values, { k: K });
    for (let i = 0; i < cube.size; i++) if (values[i] >= 1 && values[i] <= K) expect(prot.state[i]).not.toBe(PUBLISHED);
    expect(verifyProtection(cube, values, prot)).toEqual([]);
  });

  it('never uses a cell the public already knows (a structural zero) as a complement', async () => {
    // Row b is a sensitive service's row in real areas: known zeros; the pattern must go elsewhere.
    const { cube, values } = cubeOf([Axis.flat('service', ['a', 'b', 'c']), Axis.flat('area', ['N', 'S', 'X'])], [4, 50, 0, 0, 0, 0, 30, 60, 0]);
    const known = (i: number) => cube.coord(i, 0) === 2 && cube.coord(i, 1) !== 0;
    const prot = protect(cube, values, { k: K, known });
    expect(verifyProtection(cube, values, prot, known)).toEqual([]);
    for (let i = 0; i < cube.size; i++) if (known(i)) expect(prot.state[i]).toBe(PUBLISHED);
    const audit = await auditSuppression(cube, values, suppressedBy(prot.state), { k: K, known, exact: true });
    expect(audit.narrow).toEqual([]);
  });

  it('without complementary suppression the audit recovers small counts exactly', async () => {
    const { cube, values } = cubeOf([Axis.flat('service', ['a', 'b', 'c']), Axis.flat('area', ['N', 'S'])], [4, 50, 20, 60, 30, 7]);
    const primaryOnly = protect(cube, values, { k: K, complementary: false });
    const audit = await auditSuppression(cube, values, suppressedBy(primaryOnly.state), { k: K, exact: true });
    // a×N = total(a) − a×S: the lone suppressed cell of its row is pinned to its true value.
    expect(audit.narrow.map((r) => [r.value, r.lo, r.hi])).toEqual(expect.arrayContaining([[4, 4, 4], [7, 7, 7]]));
    const full = protect(cube, values, { k: K });
    expect((await auditSuppression(cube, values, suppressedBy(full.state), { k: K, exact: true })).narrow).toEqual([]);
  });
});

describe('a large release', () => {
  it('is protected without stalling the event loop: protectAsync yields, and decides exactly as protect does', async () => {
    // 60 services in 6 groups and 40 areas by 26 weeks, counts skewed small: hundreds of suppressions.
    let seed = 11;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const rows = new Axis('rows');
    const services = Array.from({ length: 60 }, (_, s) => rows.node([`g${s % 6}`, `s${s}`], 'service'));
    const areas = Array.from({ length: 40 }, (_, a) => rows.node([`a${a}`], 'area'));
    const time = Axis.flat('week', Array.from({ length: 26 }, (_, w) => `w${w}`));
    const cube = new Cube([rows, time]);
    const records: [(number | number[])[], number][] = [];
    for (const s of services) {
      const rate = 30 * rnd() ** 3;
      for (const a of areas) for (const w of time.leavesUnder(0)) records.push([[[s, a], w], Math.floor((rate / 20) * 2 * rnd())]);
    }
    const values = cube.aggregate(records);
    const sync = protect(cube, values, { k: K });
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const async = await protectAsync(cube, values, { k: K, sliceMs: 1 });
    clearInterval(ticker);
    expect(sync.stats.primary).toBeGreaterThan(100);
    expect([...async.state]).toEqual([...sync.state]);
    expect(turns).toBeGreaterThan(0);
    expect(verifyProtection(cube, values, async)).toEqual([]);
    const audit = await auditSuppression(cube, values, suppressedBy(async.state), { k: K });
    expect(audit.narrow).toEqual([]);
  });
});

// Random tables: 1–3 axes, each flat (1–5 categories), a two-level hierarchy (groups of 1–3), or
// — as the public release's rows — a total split two ways (a hierarchy and a flat list, each
// record falling in one leaf of each); every margin included; counts skewed small so that most
// tables need suppression.
type AxisSpec = { kind: 'flat'; n: number } | { kind: 'tree'; groups: number[] } | { kind: 'split'; groups: number[]; areas: number };
const axisArb: fc.Arbitrary<AxisSpec> = fc.oneof(
  fc.integer({ min: 1, max: 5 }).map((n) => ({ kind: 'flat' as const, n })),
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 }).map((groups) => ({ kind: 'tree' as const, groups })),
  fc.record({ groups: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 3 }), areas: fc.integer({ min: 2, max: 4 }) }).map((x) => ({ kind: 'split' as const, ...x })),
);
/** The axis, and the leaf (or leaves, one per family) each record can fall in. */
function build(spec: AxisSpec, i: number): { axis: Axis; tuples: (number | number[])[] } {
  if (spec.kind === 'flat') {
    const axis = Axis.flat(`d${i}`, Array.from({ length: spec.n }, (_, j) => `c${j}`));
    return { axis, tuples: axis.leavesUnder(0) };
  }
  if (spec.kind === 'tree') {
    const axis = hierarchy(`d${i}`, spec.groups);
    return { axis, tuples: axis.leavesUnder(0) };
  }
  const axis = new Axis(`d${i}`);
  const services = spec.groups.flatMap((size, g) => Array.from({ length: size }, (_, s) => axis.node([`g${g}`, `s${g}.${s}`], 'service')));
  const areas = Array.from({ length: spec.areas }, (_, a) => axis.node([`a${a}`], 'area'));
  return { axis, tuples: services.flatMap((s) => areas.map((a) => [s, a])) };
}
const countArb = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 3, arbitrary: fc.integer({ min: 13, max: 80 }) });
const tableArb = fc
  .array(axisArb, { minLength: 1, maxLength: 3 })
  // A split axis holds many records: keep such tables to two axes.
  .map((specs) => (specs.some((s) => s.kind === 'split') ? specs.slice(0, 2) : specs))
  .chain((specs) => {
    const records = specs.map((s, i) => build(s, i).tuples.length).reduce((a, b) => a * b, 1);
    return fc.tuple(fc.constant(specs), fc.array(countArb, { minLength: records, maxLength: records }));
  })
  .map(([specs, counts]) => {
    const built = specs.map((s, i) => build(s, i));
    const cube = new Cube(built.map((b) => b.axis));
    const records: [(number | number[])[], number][] = [];
    let n = 0;
    const walk = (prefix: (number | number[])[]) => {
      if (prefix.length === built.length) records.push([prefix, counts[n++]]);
      else for (const t of built[prefix.length].tuples) walk([...prefix, t]);
    };
    walk([]);
    return { specs, cube, values: cube.aggregate(records) };
  });

describe('property: every suppressed cell of a random table keeps a feasible range at least k wide (LP audit)', () => {
  it('holds for 2,000 random tables of 1–3 dimensions with all their margins', async () => {
    let suppressedCells = 0;
    let solves = 0;
    await fc.assert(
      fc.asyncProperty(tableArb, async ({ cube, values }) => {
        expect(cube.checkAdditive(values)).toBeNull();
        const prot = protect(cube, values, { k: K });
        expect(verifyProtection(cube, values, prot)).toEqual([]);
        const audit = await auditSuppression(cube, values, suppressedBy(prot.state), { k: K });
        suppressedCells += audit.suppressed;
        solves += audit.solves;
        expect(audit.narrow).toEqual([]);
      }),
      { numRuns: 2000, seed: 20261201 },
    );
    expect(suppressedCells).toBeGreaterThan(5000);
    expect(solves).toBeGreaterThan(0);
  });

  it('the same audit catches primary-only suppression on most random tables that have a small count (the check has teeth)', async () => {
    let withSmall = 0;
    let caught = 0;
    await fc.assert(
      fc.asyncProperty(tableArb, async ({ cube, values }) => {
        const prot = protect(cube, values, { k: K, complementary: false });
        if (prot.stats.primary === 0) return;
        withSmall++;
        const audit = await auditSuppression(cube, values, suppressedBy(prot.state), { k: K });
        if (audit.narrow.length > 0) caught++;
      }),
      { numRuns: 500, seed: 7 },
    );
    expect(withSmall).toBeGreaterThan(300);
    // The rest have several small counts in every line, which protect one another without help.
    expect(caught / withSmall).toBeGreaterThan(0.75);
  });
});
