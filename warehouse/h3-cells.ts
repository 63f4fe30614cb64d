// Points → H3 cells, on worker threads. h3-js computes a cell in a few microseconds on the thread
// that calls it: the million points of a large batch held the batch's one JavaScript thread for
// about 3 s, and a large city's repeat locations held the server's event loop, in short turns, for
// 4 s of its 7. Here the points go to a pool of workers (h3-worker.mjs) in chunks: the work runs on
// the machine's other cores, and the caller's thread stays free meanwhile (the server answers
// other requests; a batch locates the same points in its areas). Cells are h3-js's own, so they
// are exactly what latLngToCell gives (h3-cells.test.ts compares them point for point).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { cellKeys, cellName, type CellKeys } from './h3-keys.mjs';
import { WorkerPool, type PoolAnswer, type PoolJob } from './worker-pool.ts';

/** Each point's cell as a number into `cells`: the distinct cells, in the order of their first point. */
export interface PointCells {
  cell: Int32Array;
  cells: string[];
}

/** Points per job sent to a worker: large enough that posting it costs little, small enough to share out. */
export const POINTS_PER_JOB = 32_768;
/**
 * Fewer points than this are done on the calling thread by default: about 10 ms of h3-js, what a
 * server's event loop may give one piece of work. A batch in a process of its own asks for more
 * (`inlineBelow`): a worker's first start (a thread, h3-js loaded and compiled again) cost a daily
 * load of 10,000 rows 0.2–0.4 s, where its points on its own thread take some 30 ms.
 */
export const POINTS_INLINE = 4_096;
/**
 * Workers at most: one per core, up to this. They run while the thread that asked waits (a batch's
 * DuckDB statements and its JavaScript take turns, and so do a repeat search's), but in a server
 * they share the cores with other requests' queries.
 */
const MAX_WORKERS = 4;

interface Job extends PoolJob { lat: Float64Array<ArrayBuffer>; lon: Float64Array<ArrayBuffer>; resolution: number }
interface Answer extends PoolAnswer { key?: Float64Array<ArrayBuffer>; prefix?: string }

const startWorker = () => new Worker(new URL('./h3-worker.mjs', import.meta.url));

/** Exported for its test (a worker that dies, one that answers another job); callers use cellKeysOfPoints. */
export class CellPool {
  private readonly pool: WorkerPool<Job, Answer>;
  constructor(size: number, newWorker: () => Worker = startWorker) {
    this.pool = new WorkerPool('H3 cells', size, newWorker);
  }

  /** The points' cell keys (their arrays are handed over: emptied here). */
  async run(lat: Float64Array<ArrayBuffer>, lon: Float64Array<ArrayBuffer>, resolution: number): Promise<CellKeys> {
    const points = lat.length;
    const a = await this.pool.run({ lat, lon, resolution }, {
      transfer: [lat.buffer, lon.buffer],
      check: (x) => (!x.key || x.prefix === undefined || x.key.length !== points ? `${x.key?.length ?? 'no'} cells for ${points} points` : null),
    });
    return { key: a.key!, prefix: a.prefix! };
  }
}

let pool: CellPool | undefined;
const thePool = () => (pool ??= new CellPool(Math.max(1, Math.min(MAX_WORKERS, availableParallelism()))));

/**
 * Each point's cell key at `resolution` (h3-keys.mjs; lat[i], lon[i] in degrees; the caller passes
 * only valid points: h3-js refuses others, and so does this, naming the point). On the workers,
 * except for a few points. The caller's arrays are copied, never handed over or changed.
 */
export async function cellKeysOfPoints(lat: Float64Array, lon: Float64Array, resolution: number, o: { inlineBelow?: number } = {}): Promise<CellKeys> {
  const n = lat.length;
  if (lon.length !== n) throw new Error(`H3 cells: ${n} latitudes but ${lon.length} longitudes`);
  if (n < (o.inlineBelow ?? POINTS_INLINE)) return cellKeys(lat, lon, resolution);
  const p = thePool();
  const parts: Promise<CellKeys>[] = [];
  for (let from = 0; from < n; from += POINTS_PER_JOB) parts.push(p.run(lat.slice(from, from + POINTS_PER_JOB), lon.slice(from, from + POINTS_PER_JOB), resolution));
  const answers = await Promise.all(parts);
  const key = new Float64Array(n);
  let at = 0;
  for (const a of answers) {
    if (a.prefix !== answers[0].prefix) throw new Error(`H3 cells: cells at one resolution start ${answers[0].prefix} and ${a.prefix}`);
    key.set(a.key, at);
    at += a.key.length;
  }
  return { key, prefix: answers[0].prefix };
}

/** Dense numbers for cells given as keys, in the order each is first added: `cells` names them. */
export class CellNumbers {
  readonly cells: string[] = [];
  private readonly numbers = new Map<number, number>();
  private prefix: string | undefined;

  /** Writes each key's number into `out` from `at` on. */
  add(keys: CellKeys, out: Int32Array, at = 0): void {
    if (keys.key.length === 0) return;
    this.prefix ??= keys.prefix;
    if (keys.prefix !== this.prefix) throw new Error(`H3 cells: cells at one resolution start ${this.prefix} and ${keys.prefix}`);
    const { key } = keys;
    for (let i = 0; i < key.length; i++) {
      const k = key[i];
      let g = this.numbers.get(k);
      if (g === undefined) {
        g = this.cells.length;
        this.numbers.set(k, g);
        this.cells.push(cellName(keys.prefix, k));
      }
      out[at + i] = g;
    }
  }
}

/**
 * Each point's H3 cell at `resolution` (as cellKeysOfPoints). The numbering of `cells` is the
 * first-seen order over the points, as a loop over them on one thread would give.
 */
export async function cellsOfPoints(lat: Float64Array, lon: Float64Array, resolution: number, o: { inlineBelow?: number } = {}): Promise<PointCells> {
  const keys = await cellKeysOfPoints(lat, lon, resolution, o);
  const cell = new Int32Array(lat.length);
  const numbers = new CellNumbers();
  numbers.add(keys, cell);
  return { cell, cells: numbers.cells };
}
