// Kaplan–Meier summaries on worker threads are the reference estimator's (kmSummary of
// kaplanMeier) to the bit, whatever the group: ties, a pile of zero durations, all censored,
// nothing ended, a large group; views on shared memory (sorted in place, no copy) and ordinary
// arrays. A worker that dies fails its job only, and the failure is given only once every other
// job has ended (the caller's arena must not be handed out again while a worker sorts in it).
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { kaplanMeier, kmSummary, observationsFrom } from './stats/kaplan-meier.ts';
import { KmPool, kmWorkersUp, summariseOnWorkers } from './km-workers.ts';
import type { KmTask } from './km-task.ts';
import { DoubleArena } from './double-arena.ts';

const ALL = ['median', 'median_lower', 'median_upper', 'p90'] as const;

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Groups of every shape a KPI table's durations take. */
function groups(seed: number): { ends: number[]; censored: number[] }[] {
  const rnd = seeded(seed);
  const durations = (n: number, f: () => number) => Array.from({ length: n }, f);
  return [
    { ends: durations(5000, () => Math.round(rnd() * 72) * 3600), censored: durations(300, () => Math.round(rnd() * 90) * 3600) }, // hours: many ties
    { ends: durations(2000, () => 0), censored: [] }, // a pile of zero durations (a first response at the opening)
    { ends: [], censored: durations(40, () => rnd() * 1e6) }, // nothing ended
    { ends: durations(1, () => 60), censored: [] },
    { ends: durations(60_000, () => Math.exp(5 * rnd()) * 3600), censored: durations(1200, () => rnd() * 5e5) }, // a large week of a large city
    { ends: durations(700, () => rnd() * 1e7), censored: durations(700, () => rnd() * 1e7) },
  ];
}

const reference = (g: { ends: number[]; censored: number[] }) =>
  kmSummary(kaplanMeier(observationsFrom([...g.ends, ...g.censored], [...g.ends.map(() => 1 as const), ...g.censored.map(() => 0 as const)])));

describe('Kaplan–Meier on worker threads', () => {
  it('gives the reference estimator’s summaries to the bit, from shared and from ordinary arrays', async () => {
    const gs = [...groups(1), ...groups(2)];
    const arena = new DoubleArena();
    try {
      const onShared: KmTask[] = gs.map((g) => {
        const ends = arena.alloc(g.ends.length);
        ends.set(g.ends);
        const censored = arena.alloc(g.censored.length);
        censored.set(g.censored);
        return { ends, censored, wanted: ALL };
      });
      const onOwn: KmTask[] = gs.map((g) => ({ ends: Float64Array.from(g.ends), censored: Float64Array.from(g.censored), wanted: ALL }));
      const pool = new KmPool(2);
      const [shared, own] = [(await summariseOnWorkers(onShared, pool))!, (await summariseOnWorkers(onOwn, pool))!];
      gs.forEach((g, i) => {
        const want = reference(g);
        expect(shared[i], `group ${i}`).toEqual(want);
        expect(own[i], `group ${i}`).toEqual(want);
        for (const k of ALL) expect(Object.is(shared[i][k], want[k]), `group ${i} ${k}`).toBe(true);
      });
      // Shared memory is sorted in place by the worker: no copy crossed.
      const big = onShared[4].ends;
      expect(big.length).toBe(60_000);
      for (let i = 1; i < big.length; i++) if (big[i - 1] > big[i]) expect.fail(`not sorted at ${i}`);
    } finally {
      arena.release();
    }
  });

  it('reads only the quantiles asked for', async () => {
    const [g] = groups(3);
    const [s] = (await summariseOnWorkers([{ ends: Float64Array.from(g.ends), censored: Float64Array.from(g.censored), wanted: ['median'] }], new KmPool(1)))!;
    const want = reference(g);
    expect(s).toMatchObject({ n: want.n, events: want.events, median: want.median, p90: null, median_lower: null, median_upper: null });
  });

  it('fails a table whose worker dies in a job, only once the other jobs have ended, and goes on with new workers', async () => {
    const real = () => new Worker(new URL('./km-worker.mjs', import.meta.url));
    // Two jobs (each over a job's worth of values): the first worker starts, then exits on its job;
    // the second answers after 400 ms, and says when.
    const dies = () => new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ ready: true }); parentPort.on('message', () => process.exit(3))`, { eval: true });
    let slowAnswered = Infinity;
    const slow = () => {
      const w = new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ ready: true });
        parentPort.on('message', (j) => setTimeout(() => parentPort.postMessage({ id: j.id, summaries: j.tasks.map(() => ({ n: 0, events: 0, median: null, median_lower: null, median_upper: null, p90: null })) }), 400))`, { eval: true });
      w.on('message', (m) => {
        if (m.summaries) slowAnswered = performance.now();
      });
      return w;
    };
    const factories = [dies, slow];
    let made = 0;
    const pair = new KmPool(2, () => factories[made++]());
    const task = (): KmTask => ({ ends: new Float64Array(40_000).map((_, i) => i), censored: new Float64Array(0), wanted: ALL });
    let failedAt = 0;
    await expect(summariseOnWorkers([task(), task()], pair).finally(() => (failedAt = performance.now()))).rejects.toThrow(/Kaplan–Meier: a worker stopped \(exit code 3\)/);
    expect(slowAnswered).toBeLessThanOrEqual(failedAt);
    // A pool whose first worker dies: the table after gets a new, working one.
    let first = true;
    const one = new KmPool(1, () => (first ? ((first = false), dies()) : real()));
    await expect(summariseOnWorkers([task()], one)).rejects.toThrow(/exit code 3/);
    const [s] = (await summariseOnWorkers([task()], one))!;
    expect(s).toEqual(kmSummary(kaplanMeier(observationsFrom(Array.from({ length: 40_000 }, (_, i) => i), new Array(40_000).fill(1)))));
  });

  it('gives no answer (null), the durations untouched, when its workers cannot load their code', async () => {
    const broken = () => new Worker(`throw new Error("Cannot find package 'tsx'")`, { eval: true });
    const pool = new KmPool(2, broken);
    const values = new Float64Array(100_000).map((_, i) => (i * 7919) % 100_000);
    const before = values.slice();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      expect(await summariseOnWorkers([{ ends: values, censored: new Float64Array(0), wanted: ALL }, { ends: values.slice(), censored: new Float64Array(0), wanted: ALL }], pool)).toBeNull();
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(values).toEqual(before);
    expect(kmWorkersUp()).toBe(false);
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/Kaplan–Meier: a worker could not start: .*Cannot find package 'tsx'.*computed on the calling thread/)]);
  });

  it('fails a job a worker answers wrongly', async () => {
    const wrong = () => new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ ready: true }); parentPort.on('message', (j) => parentPort.postMessage({ id: j.id, summaries: [] }))`, { eval: true });
    const pool = new KmPool(1, wrong);
    await expect(summariseOnWorkers([{ ends: new Float64Array([1, 2]), censored: new Float64Array(0), wanted: ALL }], pool)).rejects.toThrow(/gave 0 summaries for 1 groups/);
  });
});
