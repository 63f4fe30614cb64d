// Groups' Kaplan–Meier summaries on worker threads. Sorting and walking a KPI table's durations is
// JavaScript on one thread: on the bench's 5M cases 85–100 ms of the 12-week overview and 350–430 ms
// of a year by service × week, with a core idle once DuckDB's statement beside it was done. Here
// the groups go to a pool of workers (km-worker.mjs), one per core, in jobs of many groups, and the
// calling thread is free meanwhile (the server answers other requests). The durations cross without
// a copy: they are views on shared memory (double-arena.ts blocks are SharedArrayBuffers), sorted in
// place by the worker.
// The figures are the same bits as on the calling thread: the same sort and walk (km-task.ts).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KmSummary } from './stats/kaplan-meier.ts';
import type { KmTask } from './km-task.ts';
import { WorkerPool, WorkerStartError, type PoolAnswer, type PoolJob } from './worker-pool.ts';

/**
 * Fewer values than this in all the groups together are summarised on the calling thread (by the
 * caller's own stepwise path): some 5 ms of work, where a worker's first start costs about 0.15 s.
 */
export const KM_INLINE_VALUES = 131_072;
/** A job holds groups until it has at least this many values (fewer posts), or a share of the work (balance). */
const JOB_VALUES = 32_768;
/** Workers at most: one per core, up to this (they share the cores with DuckDB's threads). */
const MAX_WORKERS = 4;

interface Job extends PoolJob { tasks: KmTask[] }
interface Answer extends PoolAnswer { summaries?: KmSummary[] }

const startWorker = () => new Worker(new URL('./km-worker.mjs', import.meta.url));

/** Exported for its test; callers use summariseOnWorkers. */
export class KmPool {
  private readonly pool: WorkerPool<Job, Answer>;
  readonly size: number;
  constructor(size: number, newWorker: () => Worker = startWorker) {
    this.size = size;
    this.pool = new WorkerPool('Kaplan–Meier', size, newWorker, true);
  }

  /** The tasks' summaries, in order (their arrays are sorted in place when they are shared). */
  async run(tasks: KmTask[]): Promise<KmSummary[]> {
    const a = await this.pool.run({ tasks: tasks.map(shared) }, {
      check: (x) => (!Array.isArray(x.summaries) || x.summaries.length !== tasks.length ? `${x.summaries?.length ?? 'no'} summaries for ${tasks.length} groups` : null),
    });
    return a.summaries!;
  }
}

/**
 * A task whose arrays a worker can read without copying their whole buffer: views on shared
 * memory go as they are; any other array is copied alone (posting a view on an ordinary buffer
 * would copy all of the buffer).
 */
function shared(t: KmTask): KmTask {
  const own = (a: Float64Array) => (a.buffer instanceof SharedArrayBuffer ? a : a.slice());
  return { ends: own(t.ends), censored: own(t.censored), wanted: t.wanted };
}

/** Jobs sent to the workers in this process, and the groups they held (for tests, and to see the workers at work). */
export const kmWorkerCounts = { jobs: 0, groups: 0 };

let pool: KmPool | undefined;
const thePool = () => (pool ??= new KmPool(Math.max(1, Math.min(MAX_WORKERS, availableParallelism()))));

/** After workers could not start, tables stay on the calling thread this long before they are tried again. */
const DOWN_MS = 60_000;
let downUntil = 0;

/** Whether tables may go to the workers (not while they have lately failed to start). */
export const kmWorkersUp = (now = Date.now()) => now >= downUntil;

/**
 * Each task's summary, on the workers, in jobs shared out among them; null when workers could not
 * start (their code failed to load: every job that failed, failed before its worker began it, so
 * the durations are as they were, and the caller computes them itself). Waits for every job to
 * end before it answers, failed or not: the arrays are the caller's memory (an arena it gives
 * back once this returns), so no worker may still be sorting in them then. A worker lost in the
 * middle of a job may have left its durations half sorted: that table fails.
 */
export async function summariseOnWorkers(tasks: readonly KmTask[], p: KmPool = thePool()): Promise<KmSummary[] | null> {
  const size = (t: KmTask) => t.ends.length + t.censored.length;
  const total = tasks.reduce((n, t) => n + size(t), 0);
  // Several jobs a worker, so one long group does not leave the others idle at the end.
  const target = Math.max(JOB_VALUES, Math.ceil(total / (4 * p.size)));
  const jobs: KmTask[][] = [];
  let job: KmTask[] = [];
  let values = 0;
  for (const t of tasks) {
    job.push(t);
    values += size(t);
    if (values >= target) {
      jobs.push(job);
      job = [];
      values = 0;
    }
  }
  if (job.length) jobs.push(job);
  kmWorkerCounts.jobs += jobs.length;
  kmWorkerCounts.groups += tasks.length;
  const settled = await Promise.allSettled(jobs.map((j) => p.run(j)));
  const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
  if (failed.length && failed.every((e) => e instanceof WorkerStartError)) {
    downUntil = Date.now() + DOWN_MS;
    // Said where an operator looks (the server's stderr), not only absorbed: every large table is slower meanwhile.
    process.emitWarning(`${failed[0].message}; KPI tables are computed on the calling thread for the next ${DOWN_MS / 1000} s`, { code: 'CIVIC_KM_WORKERS_DOWN' });
    return null;
  }
  if (failed.length) throw failed.find((e) => !(e instanceof WorkerStartError));
  return settled.flatMap((s) => (s as PromiseFulfilledResult<KmSummary[]>).value);
}
