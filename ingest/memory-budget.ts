// The DuckDB memory one ingest batch may use. The warehouse's own cap (warehouse/db.ts: a quarter
// of RAM, up to 8 GiB) is sized for the API's queries; a batch does not need it: everything it
// holds (the staged file, the mapped rows, the new events and cases) is in tables DuckDB spills to
// `<database>.tmp` past the limit. Without a smaller cap DuckDB kept all of it in memory, so a
// batch's memory grew with its file (2.4 GB at 1M rows); with it, it stays flat.
//
// The process's peak is this budget plus what DuckDB does not count against it (its allocator's
// slack, aggregate states, the transaction's own buffers) plus Node (about 250 MiB): measured
// with test/bench/ingest-profile.ts, 1 GiB gave a 1.5 GiB peak at 1M rows and 1.7 GiB at 5M;
// 512 MiB gives 1.0 GiB at 1M and 1.2 GiB at 5M (ingest/README.md), under the 1.5 GiB aim.
import type { Warehouse } from '../warehouse/db.ts';

/** The default budget, when neither the caller nor CIVIC_INGEST_MEMORY_LIMIT gives one. */
export const INGEST_MEMORY_LIMIT = '512MiB';

const UNITS: Record<string, number> = {
  b: 1, byte: 1, bytes: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** "1GiB", "6.0 GiB", "512MB" → bytes; null when it is not a size (e.g. DuckDB's "-1" for none). */
export function parseMemorySize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNITS[(m[2] || 'b').toLowerCase()];
  return unit === undefined ? null : Number(m[1]) * unit;
}

/**
 * Lowers DuckDB's memory limit to `budget` for the batch, if it is higher; returns what puts it
 * back (and insertion order as it was), or null when it left the limit as it was. The setting is the whole database's, so reads the server answers meanwhile share the
 * smaller cap (they spill sooner; DuckDB keeps the limit per instance, not per connection). The
 * limit is put back as DuckDB reports it (rounded to a tenth of a GiB).
 */
export async function capMemory(wh: Warehouse, budget: string): Promise<(() => Promise<void>) | null> {
  const want = parseMemorySize(budget);
  if (want === null) throw new Error(`Not a memory size: "${budget}" (write e.g. 1GiB or 512MB)`);
  const current = (await wh.one<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))!.v;
  const have = parseMemorySize(current);
  if (have === null || have <= want) return null;
  try {
    // SET takes no bound values; both sizes passed parseMemorySize (digits, a dot, a unit).
    await wh.run(`SET memory_limit = '${budget}'`);
  } catch {
    // More is in use than the budget allows: go on under the cap we have.
    return null;
  }
  // A statement of the batch may turn insertion order off (withoutInsertionOrder); if it fails,
  // the aborted transaction refuses the SET that would turn it back on, so it is put back here,
  // after the batch has committed or rolled back.
  const order = (await wh.one<{ v: boolean }>(`SELECT current_setting('preserve_insertion_order') AS v`))!.v;
  return async () => {
    await wh.run(`SET memory_limit = '${current}'`).catch(() => undefined);
    await wh.run(`SET preserve_insertion_order = ${order ? 'true' : 'false'}`).catch(() => undefined);
  };
}

/**
 * Runs `fn` with DuckDB's preserve_insertion_order off, then puts the setting back as it was. An
 * ordered CREATE … AS over a UNION ALL buffers its input to keep the order; unordered, it streams
 * within the budget. Only for statements whose result is never read in stored order (not the
 * insert of the rebuilt cases: `cases` is kept in order of opening, withInsertionOrder).
 * When `fn` fails inside a transaction, DuckDB refuses every statement until the rollback, the
 * SET that turns the order back on included: `fn`'s own error is what is thrown (the batch's
 * fallback reads it), and capMemory's restore puts the setting back after the rollback.
 */
export async function withoutInsertionOrder<T>(wh: Warehouse, fn: () => Promise<T>): Promise<T> {
  const was = (await wh.one<{ v: boolean }>(`SELECT current_setting('preserve_insertion_order') AS v`))!.v;
  if (!was) return fn();
  await wh.run(`SET preserve_insertion_order = false`);
  try {
    return await fn();
  } finally {
    await wh.run(`SET preserve_insertion_order = true`).catch(() => undefined);
  }
}

/**
 * Runs `fn` with DuckDB's preserve_insertion_order on (its default), then puts the setting back as
 * it was. `cases` is stored in the order its rows are written, and a batch writes its rebuilt
 * cases in order of opening (ingest/README.md, "Stored in order of opening"): a window of days
 * then reads only its days' row groups. Only speed depends on it, never a figure.
 */
export async function withInsertionOrder<T>(wh: Warehouse, fn: () => Promise<T>): Promise<T> {
  const was = (await wh.one<{ v: boolean }>(`SELECT current_setting('preserve_insertion_order') AS v`))!.v;
  if (was) return fn();
  await wh.run(`SET preserve_insertion_order = true`);
  try {
    return await fn();
  } finally {
    await wh.run(`SET preserve_insertion_order = false`).catch(() => undefined);
  }
}
