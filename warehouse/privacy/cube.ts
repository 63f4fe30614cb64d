// A table of counts with all its margins, as disclosure control sees it: one axis per dimension,
// and one cell for every combination of the axes' nodes — interior cells, every subtotal and the
// grand total. Every published table of a release is a slice of one such cube, so protecting the
// cube protects every combination of its slices (see README.md).
//
// An axis is a tree whose root (the total) may be split in more than one way: the public rows axis
// splits all requests into service groups → services, and also into areas. Each split is a
// *partition* of its node: the node's value is the sum of each partition's children. A flat
// dimension is a root with one partition of leaves.
//
// Pure: no database. Cells live in one dense array; a cell's index is Σ node × stride.

export interface AxisNode {
  /** The node's own key (e.g. a service name); the root's is the axis' total label. */
  key: string;
  /** The root partition (family) the node descends from; '' for the root. */
  family: string;
  /** Keys from the root's child down to this node ([] for the root). */
  path: string[];
  parent: number;
  /** Ways of splitting this node: each a list of children whose values sum to this node's. */
  partitions: number[][];
  depth: number;
}

export class Axis {
  readonly nodes: AxisNode[];
  private readonly byPath = new Map<string, number>();
  private readonly families: string[] = [];

  constructor(readonly name: string, totalLabel = '(all)') {
    this.nodes = [{ key: totalLabel, family: '', path: [], parent: -1, partitions: [], depth: 0 }];
  }

  /** A flat axis: the total and one leaf per key. */
  static flat(name: string, keys: readonly string[], totalLabel?: string): Axis {
    const axis = new Axis(name, totalLabel);
    for (const k of keys) axis.node([k]);
    return axis;
  }

  /** The node at a path in a family (one way of splitting the total), created with its ancestors when missing. */
  node(path: readonly string[], family = ''): number {
    const id = JSON.stringify([family, path]);
    const hit = this.byPath.get(id);
    if (hit !== undefined) return hit;
    if (path.length === 0) return 0;
    const parent = path.length === 1 ? 0 : this.node(path.slice(0, -1), family);
    const index = this.nodes.length;
    this.nodes.push({ key: path[path.length - 1], family, path: [...path], parent, partitions: [], depth: path.length });
    const p = this.nodes[parent];
    // The root has one partition per family; every other node one.
    let part = parent === 0 ? this.families.indexOf(family) : 0;
    if (parent === 0 && part < 0) {
      this.families.push(family);
      part = this.families.length - 1;
    }
    (p.partitions[part] ??= []).push(index);
    this.byPath.set(id, index);
    return index;
  }

  find(path: readonly string[], family = ''): number | undefined {
    return path.length === 0 ? 0 : this.byPath.get(JSON.stringify([family, path]));
  }

  get size(): number {
    return this.nodes.length;
  }

  isLeaf(i: number): boolean {
    return this.nodes[i].partitions.length === 0;
  }

  /** Every node below i, in any partition. */
  children(i: number): number[] {
    return this.nodes[i].partitions.flat();
  }

  /** The leaves of one partition family under a node (the node itself when it is a leaf). */
  leavesUnder(i: number, family?: string): number[] {
    if (this.isLeaf(i)) return [i];
    const parts = this.nodes[i].partitions;
    const part = i === 0 ? (family === undefined ? parts[0] : parts[this.families.indexOf(family)] ?? []) : parts[0];
    return part.flatMap((c) => this.leavesUnder(c));
  }

  /** The nodes of a family at a depth (0 = the total). */
  atDepth(depth: number, family = ''): number[] {
    if (depth === 0) return [0];
    return this.nodes.flatMap((n, i) => (n.depth === depth && n.family === family ? [i] : []));
  }

  /** The node and its ancestors up to the total. */
  ancestry(i: number): number[] {
    const out: number[] = [];
    for (let x = i; x >= 0; x = this.nodes[x].parent) out.push(x);
    return out;
  }

  get maxDepth(): number {
    return Math.max(...this.nodes.map((n) => n.depth));
  }
}

/** One line of the cube: a total and the parts it is the sum of, along one axis (one partition). */
export interface Line {
  axis: number;
  total: number;
  parts: number[];
}

export class Cube {
  readonly size: number;
  readonly strides: number[];

  constructor(readonly axes: readonly Axis[]) {
    this.strides = [];
    let s = 1;
    for (let a = axes.length - 1; a >= 0; a--) {
      this.strides[a] = s;
      s *= axes[a].size;
    }
    this.size = s;
  }

  index(coords: readonly number[]): number {
    let i = 0;
    for (let a = 0; a < this.axes.length; a++) i += coords[a] * this.strides[a];
    return i;
  }

  coord(index: number, axis: number): number {
    return Math.floor(index / this.strides[axis]) % this.axes[axis].size;
  }

  coords(index: number): number[] {
    return this.axes.map((_, a) => this.coord(index, a));
  }

  /** The cell's keys per axis, e.g. { rows: ['Waste', 'Bulky Item Pickup'], month: ['2026-03-01'] }. */
  describe(index: number): Record<string, string[]> {
    return Object.fromEntries(this.axes.map((ax, a) => [ax.name, ax.nodes[this.coord(index, a)].path]));
  }

  /**
   * Values of every cell from records: each record names, per axis, the leaves it falls in (one
   * per partition family of the root — a request is in one service and in one area) and adds its
   * value to every cell whose nodes contain it. Margins are sums of their parts, exactly.
   */
  aggregate(records: Iterable<[leaves: (number | readonly number[])[], value: number]>): Float64Array {
    const v = new Float64Array(this.size);
    for (const [leaves, value] of records) {
      if (value === 0) continue;
      for (const c of this.cellsOf(leaves)) v[c] += value;
    }
    return v;
  }

  /**
   * The cells a record with these leaves adds to (aggregate): every combination of one node per
   * axis among its leaves and their ancestors, each cell once. A caller adding several values of
   * the same records finds each record's cells once (buildRelease: a city's 100,000 leaves × ten
   * fields took seconds when each field found them again).
   */
  cellsOf(leaves: readonly (number | readonly number[])[]): number[] {
    let cells = [0];
    for (let a = 0; a < leaves.length; a++) {
      const l = leaves[a];
      const ls = typeof l === 'number' ? [l] : l;
      // The leaves' nodes and their ancestors, each once, in the order first met.
      const nodes: number[] = [];
      for (const x of ls) {
        if (!this.axes[a].isLeaf(x)) throw new Error(`cube: ${this.axes[a].name} node ${this.axes[a].nodes[x].key} is not a leaf`);
        for (const n of this.ancestryOf(a, x)) if (!nodes.includes(n)) nodes.push(n);
      }
      const next: number[] = [];
      const stride = this.strides[a];
      for (const base of cells) for (const n of nodes) next.push(base + n * stride);
      cells = next;
    }
    return cells;
  }

  /** A node's ancestry on an axis (Axis.ancestry), kept: the axes are complete once a cube is built on them. */
  private readonly ancestries = new Map<number, number[]>();
  private ancestryOf(axis: number, node: number): number[] {
    const key = node * this.axes.length + axis;
    let got = this.ancestries.get(key);
    if (!got) this.ancestries.set(key, (got = this.axes[axis].ancestry(node)));
    return got;
  }

  /** Every line: along each axis, each node = Σ each of its partitions, at every combination of the other axes' nodes (margins included). */
  *lines(): Generator<Line> {
    for (let a = 0; a < this.axes.length; a++) {
      const axis = this.axes[a];
      const stride = this.strides[a];
      for (let i = 0; i < this.size; i++) {
        const c = this.coord(i, a);
        for (const part of axis.nodes[c].partitions) yield { axis: a, total: i, parts: part.map((k) => i + (k - c) * stride) };
      }
    }
  }

  /** The first line that does not add up, or null. */
  checkAdditive(values: ArrayLike<number>, tolerance = 1e-9): Line | null {
    for (const line of this.lines()) {
      const sum = line.parts.reduce((s, p) => s + values[p], 0);
      if (Math.abs(sum - values[line.total]) > tolerance) return line;
    }
    return null;
  }
}
