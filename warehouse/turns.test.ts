import { describe, expect, it } from 'vitest';
import { Pacer, UNITS_PER_RUN, type Stepwise } from './turns.ts';

/** Work of `units` values, done in steps of at most the budget. */
const work = (units: number): Stepwise & { left: number } => ({
  left: units,
  get done() {
    return this.left === 0;
  },
  advance(budget: number) {
    const did = Math.min(this.left, Math.max(1, budget));
    this.left -= did;
    return did;
  },
});

/** Runs `fn` while counting the turns of the event loop it gives back (a setImmediate chain). */
async function turnsDuring(fn: () => Promise<void>): Promise<number> {
  let turns = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await fn();
  on = false;
  return turns;
}

describe('Pacer', () => {
  it('gives the loop back every perTurn units, counted across the pieces of work', async () => {
    const pacer = new Pacer(10_000);
    const turns = await turnsDuring(async () => {
      for (let i = 0; i < 10; i++) await pacer.run(work(9_500));
    });
    // 10 × (9,500 + UNITS_PER_RUN) = 100,000 units: about ten turns.
    expect(turns).toBeGreaterThanOrEqual(9);
    expect(turns).toBeLessThanOrEqual(11);
  });

  it('counts each piece of work itself, so thousands of tiny ones still give the loop back', async () => {
    const pacer = new Pacer(100_000);
    const pieces = 4_000;
    const turns = await turnsDuring(async () => {
      for (let i = 0; i < pieces; i++) await pacer.run(work(5));
    });
    // 4,000 × 5 values would never reach a turn's budget (no turn at all); with each piece's own
    // cost (UNITS_PER_RUN, 500) about 20 turns.
    expect(UNITS_PER_RUN).toBeGreaterThanOrEqual(250);
    expect(turns).toBeGreaterThanOrEqual(Math.floor((pieces * UNITS_PER_RUN) / 100_000) - 1);
  });

  it('runs work that is done already without a step', async () => {
    const pacer = new Pacer(100);
    const w = work(0);
    let steps = 0;
    const advance = w.advance.bind(w);
    w.advance = (b) => (steps++, advance(b));
    await pacer.run(w);
    expect(steps).toBe(0);
  });
});
