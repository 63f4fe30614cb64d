// The audit statistical agencies run on a suppressed table: for every suppressed cell, the smallest
// and largest value it can take consistently with everything published — the published cells,
// every margin (each line of the cube: total = Σ parts), and non-negativity; integrality is not
// required (the LP relaxation is what an attacker with a solver computes first, and its range
// contains the integer one). A cell whose range is narrower than k is disclosed (it is "pinned
// down" to fewer than k possible values).
//
// Audit tooling, not product code: it needs `highs` (HiGHS as WebAssembly), a dev dependency, and
// nothing the server runs imports it. The product's own guarantee is the certificates of
// suppress.ts; this is the independent check the tests run on random tables and on the public
// tables of the demo city and of LA.
import loadHighs from 'highs';
import type { Cube } from './cube.ts';

type Highs = Awaited<ReturnType<typeof loadHighs>>;
let highsOnce: Promise<Highs> | null = null;
const solver = () => (highsOnce ??= loadHighs());

export interface AuditOptions {
  /** Required width of every suppressed cell's feasible range. */
  k: number;
  /** Cells the public knows regardless of publication (structural zeros): constants, like published cells. */
  known?: (index: number) => boolean;
  /**
   * true: solve min and max for every suppressed cell. false (default): skip a cell once the
   * solutions already found (each one a feasible table) show it taking values at least k apart —
   * a lower bound on its range, so the verdict is the same; only cells that might fail are solved
   * exactly.
   */
  exact?: boolean;
}

export interface CellRange {
  index: number;
  value: number;
  /** Smallest feasible value (exact when solved; else the smallest seen in a feasible solution). */
  lo: number;
  /** Largest (Infinity when unbounded). */
  hi: number;
  solved: boolean;
}

export interface AuditResult {
  suppressed: number;
  /** Independent groups of suppressed cells (linked through a line). */
  components: number;
  /** LP solves run. */
  solves: number;
  ranges: CellRange[];
  /** Cells whose range is narrower than k: disclosed. */
  narrow: CellRange[];
}

const TOLERANCE = 1e-6;

/**
 * Audits a suppression pattern: `suppressed(i)` says which cells were withheld; every other cell
 * (and every known cell) is published at `values[i]`.
 */
export async function auditSuppression(cube: Cube, values: ArrayLike<number>, suppressed: (index: number) => boolean, opts: AuditOptions): Promise<AuditResult> {
  const highs = await solver();
  const known = opts.known ?? (() => false);
  const isVar = (i: number) => suppressed(i) && !known(i);
  const varOf = new Map<number, number>();
  const cells: number[] = [];
  for (let i = 0; i < cube.size; i++) {
    if (isVar(i)) {
      varOf.set(i, cells.length);
      cells.push(i);
    }
  }
  // One equality per line that has a suppressed member: Σ coef·x = −Σ coef·published.
  const rows: { vars: number[]; coefs: number[]; rhs: number }[] = [];
  for (const line of cube.lines()) {
    const vars: number[] = [];
    const coefs: number[] = [];
    let rhs = 0;
    const add = (cell: number, coef: number) => {
      const v = varOf.get(cell);
      if (v === undefined) rhs -= coef * values[cell];
      else {
        vars.push(v);
        coefs.push(coef);
      }
    };
    add(line.total, 1);
    for (const p of line.parts) add(p, -1);
    if (vars.length > 0) rows.push({ vars, coefs, rhs });
  }
  // Connected components: cells linked through a shared line are solved together, others apart.
  const parent = cells.map((_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  for (const r of rows) for (let j = 1; j < r.vars.length; j++) parent[find(r.vars[j])] = find(r.vars[0]);
  const comps = new Map<number, { vars: number[]; rows: typeof rows }>();
  for (let v = 0; v < cells.length; v++) {
    const root = find(v);
    if (!comps.has(root)) comps.set(root, { vars: [], rows: [] });
    comps.get(root)!.vars.push(v);
  }
  for (const r of rows) comps.get(find(r.vars[0]))!.rows.push(r);

  const ranges: CellRange[] = cells.map((c) => ({ index: c, value: values[c], lo: values[c], hi: values[c], solved: false }));
  let solves = 0;
  const { minimize, maximize } = highs.constants.objectiveSense;
  const status = highs.constants.modelStatus;
  for (const comp of comps.values()) {
    const local = new Map(comp.vars.map((v, j) => [v, j]));
    const starts = [0];
    const indices: number[] = [];
    const coefs: number[] = [];
    for (const r of comp.rows) {
      r.vars.forEach((v, j) => {
        indices.push(local.get(v)!);
        coefs.push(r.coefs[j]);
      });
      starts.push(indices.length);
    }
    const n = comp.vars.length;
    const m = comp.rows.length;
    const model = highs.createModel({
      numCols: n,
      numRows: m,
      colCost: new Array(n).fill(0),
      colLower: new Array(n).fill(0),
      colUpper: new Array(n).fill(highs.infinity),
      rowLower: comp.rows.map((r) => r.rhs),
      rowUpper: comp.rows.map((r) => r.rhs),
      matrix: { format: 'csr', numRows: m, numCols: n, starts, indices, values: coefs },
    });
    try {
      model.options.set({ output_flag: false });
      const witness = (x: ArrayLike<number>) => {
        comp.vars.forEach((v, j) => {
          const r = ranges[v];
          if (x[j] < r.lo) r.lo = x[j];
          if (x[j] > r.hi) r.hi = x[j];
        });
      };
      for (let j = 0; j < n; j++) {
        const r = ranges[comp.vars[j]];
        if (!opts.exact && r.hi - r.lo >= opts.k - TOLERANCE) continue;
        model.changeColCost(j, 1);
        for (const sense of [minimize, maximize]) {
          model.changeObjectiveSense(sense);
          model.run();
          solves++;
          const s = model.getModelStatus();
          if (s === status.optimal) {
            const x = model.getSolution().colValue;
            witness(x);
            if (sense === minimize) r.lo = x[j];
            else r.hi = x[j];
          } else if (sense === maximize && (s === status.unbounded || s === status.unboundedOrInfeasible)) {
            // The published table itself is a feasible point, so "infeasible or unbounded" is unbounded.
            r.hi = Infinity;
          } else {
            throw new Error(`LP audit: ${sense === minimize ? 'min' : 'max'} of ${JSON.stringify(cube.describe(r.index))} ended with model status ${s}`);
          }
        }
        r.solved = true;
        model.changeColCost(j, 0);
      }
    } finally {
      model.dispose();
    }
  }
  return { suppressed: cells.length, components: comps.size, solves, ranges, narrow: ranges.filter((r) => r.hi - r.lo < opts.k - TOLERANCE) };
}
