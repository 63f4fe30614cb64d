// Kaplan–Meier summaries of a year by service × week's shape (468 groups of 10,700 durations to
// close, each with 200 censored, and as many groups of zero durations to first response) on the
// calling thread and on the worker pool (warehouse/km-workers.ts), alternating, five runs each:
// what the workers gain with the machine otherwise idle.
//
//   node --import tsx test/bench/km-workers-time.ts [workers=2]
import { KmPool, summariseOnWorkers } from '../../warehouse/km-workers.ts';
import { summariseTask, type KmTask } from '../../warehouse/km-task.ts';
import { DoubleArena } from '../../warehouse/double-arena.ts';

let s = 7;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const GROUPS = 468;
const VALUES = 10_700;
const ends = Array.from({ length: GROUPS }, () => Float64Array.from({ length: VALUES }, () => Math.exp(5 * rnd()) * 3600));
const censored = Array.from({ length: GROUPS }, () => Float64Array.from({ length: 200 }, () => rnd() * 1e5));
const arena = new DoubleArena();
const copy = (a: Float64Array) => {
  const x = arena.alloc(a.length);
  x.set(a);
  return x;
};
// Fresh unsorted copies each run: the tasks are sorted in place.
const tasks = (): KmTask[] => [
  ...ends.map((e, i) => ({ ends: copy(e), censored: copy(censored[i]), wanted: ['median', 'median_lower', 'median_upper', 'p90'] as const })),
  ...ends.map(() => ({ ends: copy(new Float64Array(VALUES)), censored: new Float64Array(0), wanted: ['median'] as const })),
];
const pool = new KmPool(Number(process.argv[2] ?? 2));
await summariseOnWorkers(tasks(), pool); // the workers' first start is not what is measured
arena.release();
for (let r = 0; r < 5; r++) {
  let t = tasks();
  let t0 = performance.now();
  t.forEach(summariseTask);
  const here = performance.now() - t0;
  arena.release();
  t = tasks();
  t0 = performance.now();
  await summariseOnWorkers(t, pool);
  const there = performance.now() - t0;
  arena.release();
  console.log(`calling thread ${here.toFixed(0)} ms, ${pool.size} workers ${there.toFixed(0)} ms`);
}
process.exit(0);
