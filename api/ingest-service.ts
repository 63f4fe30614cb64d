// Ingest inside the server: one batch at a time, on its own connection, so API reads never run
// inside a half-done batch's transaction and two uploads never race for the same rows.
import type { Warehouse } from '../warehouse/db.ts';
import { ingestFile, type IngestOptions, type IngestResult } from '../ingest/load.ts';
import type { Profile } from '../ingest/profile.ts';

export class IngestService {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly landed: ((r: IngestResult) => void)[] = [];
  private readonly settled: (() => void)[] = [];
  private constructor(private readonly writer: Warehouse) {}

  /**
   * `fn` runs after each batch that committed (not awaited: what it computes is for the next
   * visitor). The answers routes compute ahead of the first visit are computed again here, so the
   * first visit after a load does not wait for them either.
   */
  onLanded(fn: (r: IngestResult) => void): void {
    this.landed.push(fn);
  }

  /**
   * `fn` runs after every batch, landed or failed, before the onLanded listeners: for what is
   * kept while the data does not change (the server's data version), which a failed batch's
   * own records (its ingest_batches row) may change too.
   */
  onSettled(fn: () => void): void {
    this.settled.push(fn);
  }

  static async create(wh: Warehouse): Promise<IngestService> {
    return new IngestService(await wh.connect());
  }

  run(file: string, profile: Profile, opts: Pick<IngestOptions, 'jurisdiction'> = {}): Promise<IngestResult> {
    const next = this.tail.then(async () => {
      const r = await ingestFile(this.writer, file, profile, { memoryLimit: null, ...opts }).finally(() => {
        for (const fn of this.settled) {
          try {
            fn();
          } catch {
            // A listener's failure is not the batch's: its result stands.
          }
        }
      });
      for (const fn of this.landed) {
        try {
          fn(r);
        } catch {
          // What a listener computes ahead is not the batch's result: the batch has committed.
        }
      }
      return r;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Waits for the batch in progress, then closes the connection. */
  async close(): Promise<void> {
    await this.tail;
    this.writer.close();
  }
}
