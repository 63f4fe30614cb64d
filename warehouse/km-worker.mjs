// One worker of km-workers.ts's pool: groups' durations in (views on shared memory, sorted in
// place), their Kaplan–Meier summaries out (km-task.ts). The code it runs is TypeScript: a worker
// thread does not inherit a loader registered on the main thread with module.register() (bin/civic.mjs),
// nor one given to vitest, so it registers tsx itself before importing it (about 0.15 s, once per worker).
//
// Once its code is loaded it says so ({ ready: true }): a worker lost before that never began its
// job (km-workers.ts then computes the table on the calling thread).
// A job: { id, tasks: [{ ends: Float64Array, censored: Float64Array, wanted: string[] }] }.
// Its answer: { id, summaries: KmSummary[] } in the tasks' order, or { id, error }.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { summariseTask } = await import('./km-task.ts');
const { trimSpareBlocks } = await import('./double-arena.ts');
/** Sort scratch kept between jobs, in numbers (32 MB): each worker has its own, beside the main thread's. */
const KEEP = 4 << 20;
parentPort.postMessage({ ready: true });

parentPort.on('message', ({ id, tasks }) => {
  let summaries;
  try {
    summaries = tasks.map(summariseTask);
  } catch (err) {
    trimSpareBlocks(KEEP);
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    return;
  }
  trimSpareBlocks(KEEP);
  parentPort.postMessage({ id, summaries });
});
