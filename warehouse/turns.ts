// Long loops in short turns. The server has one event loop: a loop over thousands of rows that
// runs in one go delays every other request (a health check waits for a KPI table to be built).
// Work over many items goes through here instead, giving the loop back every `size` items.
import { setImmediate as nextTurn } from 'node:timers/promises';

export { nextTurn };

/** Items per turn: about a millisecond or two of work per item group on this machine. */
export const TURN_SIZE = 250;

/** Calls `fn` on each item in order, yielding to the event loop every `size` items. */
export async function forEachInTurns<T>(items: Iterable<T>, fn: (item: T, index: number) => void, size = TURN_SIZE): Promise<void> {
  let i = 0;
  for (const item of items) {
    fn(item, i);
    if (++i % size === 0) await nextTurn();
  }
}

/** `items.map(fn)`, yielding to the event loop every `size` items. */
export async function mapInTurns<T, U>(items: readonly T[], fn: (item: T, index: number) => U, size = TURN_SIZE): Promise<U[]> {
  const out: U[] = new Array(items.length);
  await forEachInTurns(items, (item, i) => (out[i] = fn(item, i)), size);
  return out;
}

/** Durations sorted or Kaplan–Meier points walked between turns of the event loop: a few milliseconds' work. */
export const VALUES_PER_TURN = 100_000;

/** Work done a bounded amount at a time: `advance(budget)` does about `budget` units and says how many it did. */
export interface Stepwise {
  done: boolean;
  advance(budget: number): number;
}

/**
 * What setting up and finishing one piece of work costs, in units (values): a group's sort, walk
 * and summary are some 25 µs however few its values, so a table of 4,000 small groups (service ×
 * area × channel × day) was 100 ms of work that counted as almost none and never gave the loop
 * back. About a thousand values' worth, as measured here, split between a group's sort and walk.
 */
export const UNITS_PER_RUN = 500;

/**
 * Runs stepwise work (a sort, a Kaplan–Meier walk) to its end, giving the event loop back every
 * `perTurn` units, counted across all the work it runs: many small pieces share the turns. Each
 * piece also counts UNITS_PER_RUN for itself, so many tiny pieces give the loop back too.
 */
export class Pacer {
  private sinceTurn = 0;
  constructor(private readonly perTurn: number) {}

  async run(work: Stepwise): Promise<void> {
    this.sinceTurn += UNITS_PER_RUN;
    for (;;) {
      if (this.sinceTurn >= this.perTurn) {
        await nextTurn();
        this.sinceTurn = 0;
      }
      if (work.done) return;
      this.sinceTurn += work.advance(this.perTurn - this.sinceTurn);
    }
  }
}
