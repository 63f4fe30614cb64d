// A pool of worker threads that each take one job at a time: the H3 cells of points (h3-cells.ts)
// and groups' Kaplan–Meier summaries (km-workers.ts). Jobs wait in order for an idle worker;
// workers are started as jobs need them, up to the pool's size, and kept. A worker with a job
// keeps the process alive until it answers; an idle one does not.
//
// A worker that fails outside a job's own error (it could not start, it ran out of memory, it
// exited, it answered another job or an answer that does not fit its job) fails the job it had
// and is replaced at the next dispatch: one bad worker never fails the jobs after it.
import type { TransferListItem, Worker } from 'node:worker_threads';

/** Every job carries the id its answer must repeat. */
export interface PoolJob { id: number }
/** An answer: the job's id, and either its result's fields or the job's own error. */
export interface PoolAnswer { id: number; error?: string }

interface Pending<J, A> {
  job: J;
  transfer: readonly TransferListItem[];
  /** What is wrong with an answer that has the job's id and no error (null: nothing). */
  check: (a: A) => string | null;
  resolve: (a: A) => void;
  reject: (e: Error) => void;
}

/**
 * The failure of a job whose worker never said it had started (a pool with a handshake): its job
 * was never begun, so whatever memory it was given is as it was.
 */
export class WorkerStartError extends Error {}

export class WorkerPool<J extends PoolJob, A extends PoolAnswer> {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending<J, A>>();
  private readonly queue: Pending<J, A>[] = [];
  private workers = 0;
  private nextId = 0;

  /**
   * `name` starts the errors it gives ("H3 cells: a worker stopped …"). `handshake`: the worker
   * posts `{ ready: true }` once it has loaded its code, and a worker lost before that fails its
   * job with a WorkerStartError.
   */
  constructor(private readonly name: string, private readonly size: number, private readonly newWorker: () => Worker, private readonly handshake = false) {}

  /**
   * Runs a job on a worker; resolves with its answer, or rejects with the job's own error or the
   * worker's failure. `transfer`: buffers handed over with it (emptied here).
   */
  run(job: Omit<J, 'id'>, o: { transfer?: readonly TransferListItem[]; check?: (a: A) => string | null } = {}): Promise<A> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ } as J, transfer: o.transfer ?? [], check: o.check ?? (() => null), resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker: Worker | undefined;
      try {
        worker = this.idle.pop() ?? (this.workers < this.size ? this.start() : undefined);
      } catch (err) {
        // A worker that cannot even be made fails the job that asked for it, not the process.
        this.queue.shift()!.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (!worker) return;
      const p = this.queue.shift()!;
      this.busy.set(worker, p);
      worker.ref();
      worker.postMessage(p.job, [...p.transfer]);
    }
  }

  private start(): Worker {
    const worker = this.newWorker();
    this.workers++;
    let gone = false;
    let ready = !this.handshake;
    const lost = (cause: Error) => {
      const err = ready ? cause : new WorkerStartError(`${this.name}: a worker could not start: ${cause.message}`, { cause });
      if (gone) return;
      gone = true;
      const p = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      this.workers--;
      p?.reject(err);
      this.dispatch();
    };
    worker.on('message', (m: A | { ready: true }) => {
      // Any message means the worker's code runs (an answer without the handshake too: it may have begun its job).
      const started = ready;
      ready = true;
      if (!started && 'ready' in m && m.ready === true) return;
      const a = m as A;
      const p = this.busy.get(worker);
      // An answer to another job, or one that does not fit its job, means the worker is broken.
      const wrong = !p ? 'an answer without a job'
        : a.id !== p.job.id ? `an answer to job ${a.id} while given job ${p.job.id}`
        : a.error === undefined ? p.check(a)
        : null;
      if (wrong !== null) {
        lost(new Error(`${this.name}: a worker gave ${wrong}`));
        void worker.terminate();
        return;
      }
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      // A job's own error fails that job only; the worker goes on.
      if (a.error !== undefined) p!.reject(new Error(a.error));
      else p!.resolve(a);
      this.dispatch();
    });
    worker.on('error', lost);
    // An answer that cannot be read back (out of memory) would otherwise leave its job waiting forever.
    worker.on('messageerror', (err) => {
      lost(err);
      void worker.terminate();
    });
    worker.on('exit', (code) => lost(new Error(`${this.name}: a worker stopped (exit code ${code})`)));
    return worker;
  }
}
