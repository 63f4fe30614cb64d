// Number arrays for large, short-lived work (a KPI table's durations, a sort's scratch buffer),
// carved out of blocks that are kept and reused. Fresh memory is slow on first touch: each page is
// faulted in when first written, and on this machine's VM writing a new 40 MB buffer took 150 ms
// where a reused one took 1.5 ms — a third of sorting a year of a large city's durations, and as
// much again to read them. A few blocks are kept between uses, up to a bounded total.

import type { Pacer, Stepwise } from './turns.ts';

/** A block holds at least this many numbers (8 MB): many groups' lists share one. */
const BLOCK = 1 << 20;
/**
 * Spare blocks kept between uses, in numbers (256 MB): memory the server holds for speed, beside
 * DuckDB's own (a year of a 10M-case city's durations and a sort's scratch are about 160 MB).
 */
const SPARE_MAX = 32 * BLOCK;

const spare: Float64Array[] = [];
let spareLength = 0;

/**
 * A block of at least `n` numbers: the smallest spare one that fits and is not more than twice
 * what is asked (a small request does not take the block a year's durations need next), else a new one.
 */
export function takeBlock(n: number): Float64Array {
  const want = Math.max(n, BLOCK);
  let best = -1;
  for (let i = 0; i < spare.length; i++) {
    const len = spare[i].length;
    if (len >= n && len <= 2 * want && (best < 0 || len < spare[best].length)) best = i;
  }
  // Shared memory, so a worker thread can sort a KPI table's durations in place (km-workers.ts):
  // posting a view on an ordinary buffer would copy all of it.
  if (best < 0) return new Float64Array(new SharedArrayBuffer(want * Float64Array.BYTES_PER_ELEMENT));
  const [b] = spare.splice(best, 1);
  spareLength -= b.length;
  return b;
}

/** Gives a block back for reuse (kept while the spares stay under their bound). Its contents are left as they are. */
export function returnBlock(block: Float64Array): void {
  if (block.byteOffset !== 0 || block.length !== block.buffer.byteLength / Float64Array.BYTES_PER_ELEMENT) throw new Error('returnBlock: not a whole block');
  if (spare.includes(block) || spareLength + block.length > SPARE_MAX) return;
  spare.push(block);
  spareLength += block.length;
}

/** Lets spare blocks go, largest first, until they hold at most `maxNumbers` (a worker thread keeps less between jobs than the main thread). */
export function trimSpareBlocks(maxNumbers: number): void {
  spare.sort((a, b) => a.length - b.length);
  while (spareLength > maxNumbers) spareLength -= spare.pop()!.length;
}

/** Numbers held by spare blocks (for tests). */
export const spareNumbers = () => spareLength;

/** Lets every spare block go, to be collected (for tests). */
export function dropSpareBlocks(): void {
  spare.length = 0;
  spareLength = 0;
}

/**
 * Arrays carved out of kept blocks, all given back at once by `release()`. An arena that is never
 * released is simply collected with its arrays (its blocks are then not reused). After release,
 * its arrays must no longer be used: their memory is handed out again.
 */
export class DoubleArena {
  private readonly blocks: Float64Array[] = [];
  private current: Float64Array | null = null;
  private used = 0;

  /** An array of `n` numbers (its contents are whatever the block held: write before reading). */
  alloc(n: number): Float64Array {
    if (n === 0) return new Float64Array(0);
    if (!this.current || this.used + n > this.current.length) {
      this.current = takeBlock(n);
      this.blocks.push(this.current);
      this.used = 0;
    }
    const view = this.current.subarray(this.used, this.used + n);
    this.used += n;
    return view;
  }

  /** Gives every block back. */
  release(): void {
    for (const b of this.blocks) returnBlock(b);
    this.blocks.length = 0;
    this.current = null;
    this.used = 0;
  }
}

/**
 * Lists put together in one array of an arena, copied a budget of numbers per step (a Pacer runs
 * it): a year of a large city's durations is tens of megabytes, too long a copy for one turn.
 */
export class ListsTogether implements Stepwise {
  readonly out: Float64Array;
  private part = 0;
  private at = 0;
  private from = 0;
  /** Zeros still to write at the front. */
  private zeros: number;
  constructor(private readonly parts: readonly Float64Array[], arena: DoubleArena, zeros = 0) {
    this.out = arena.alloc(zeros + parts.reduce((n, x) => n + x.length, 0));
    this.zeros = zeros;
  }

  get done(): boolean {
    return this.zeros === 0 && this.part >= this.parts.length;
  }

  advance(budget: number): number {
    let did = 0;
    budget = Math.max(1, budget);
    if (this.zeros > 0) {
      const n = Math.min(this.zeros, budget);
      this.out.fill(0, this.at, this.at + n);
      this.at += n;
      this.zeros -= n;
      did += n;
    }
    while (this.part < this.parts.length && did < budget) {
      const p = this.parts[this.part];
      const n = Math.min(p.length - this.from, budget - did);
      this.out.set(p.subarray(this.from, this.from + n), this.at);
      this.at += n;
      this.from += n;
      did += n;
      if (this.from === p.length) {
        this.part++;
        this.from = 0;
      }
    }
    return did;
  }
}

/**
 * A group's lists as one array: the list itself when there is one (no copy), else the lists put
 * together in `arena`, in the pacer's steps (ListsTogether).
 */
export async function listsTogether(parts: readonly Float64Array[], arena: DoubleArena, pacer: Pacer, zeros = 0): Promise<Float64Array> {
  if (parts.length === 1 && zeros === 0) return parts[0];
  const t = new ListsTogether(parts, arena, zeros);
  await pacer.run(t);
  return t.out;
}
