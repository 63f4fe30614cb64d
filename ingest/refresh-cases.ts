// Rebuilding the `cases` rows a batch touched, placed, in as few passes over the warehouse as the
// batch allows: new cases come from the batch's own events, only cases held before are read back,
// only new or moved points are looked up, and each row is written once (no UPDATE afterwards).
// A large batch is rebuilt a slice of rows' cases at a time, so no step's hash table holds the
// whole file's cases at once.
import { readFileSync } from 'node:fs';
import { model, type Warehouse } from '../warehouse/db.ts';
import { dropPlaceTables, placeStagedCases } from './places.ts';

const SQL_DIR = new URL('./sql/', import.meta.url);
const cache = new Map<string, string>();
/** A fixed statement from ingest/sql/<name>.sql. */
export function ingestSql(name: string): string {
  let sql = cache.get(name);
  if (sql === undefined) {
    sql = readFileSync(new URL(`${name}.sql`, SQL_DIR), 'utf8');
    cache.set(name, sql);
  }
  return sql;
}

export interface RefreshOptions {
  batchId: string;
  /** The profile's source: new cases' rows are built from `new_events`, which does not carry it. */
  source: string;
  /** The zone the warehouse cuts local days in (see warehouse/models/refresh-local-days.sql). */
  timezone: string;
  onPhase?: (phase: string) => void;
  /** Rows of the file per slice (default ROWS_PER_SLICE); a test sets it small to check slicing changes nothing. */
  rowsPerSlice?: number;
}

/**
 * Rows of the file whose cases are rebuilt at a time: a slice's grouping of events into cases,
 * its place lookups and its insert hold about this many cases (ingest/README.md, "Large files").
 */
export const ROWS_PER_SLICE = 500_000;

/**
 * Rebuilds the `cases` rows of every case with an event in temp table `new_events` (already
 * appended to `case_events`), and their areas. Runs inside the batch's transaction.
 */
export async function refreshTouchedCases(wh: Warehouse, o: RefreshOptions): Promise<void> {
  const perSlice = Math.max(1, Math.floor(o.rowsPerSlice ?? ROWS_PER_SLICE));
  await wh.run(ingestSql('refresh-targets'), { rows_per_slice: perSlice });
  await wh.run(ingestSql('slice-strays'));
  const slices = (await wh.all<{ slice: number }>(`SELECT DISTINCT slice FROM refresh_all ORDER BY slice`)).map((r) => r.slice);
  for (const slice of slices) {
    o.onPhase?.('refresh');
    await wh.run(ingestSql('slice-targets'), { slice });
    await wh.run(model('refresh-cases'), {
      batch_id: o.batchId, source: o.source, tz: o.timezone,
      first_row: slice * perSlice + 1, last_row: (slice + 1) * perSlice,
    });
    o.onPhase?.('place');
    await wh.run(ingestSql('place-targets'));
    await placeStagedCases(wh);
    o.onPhase?.('refresh-insert');
    await wh.run(model('refresh-cases-delete'));
    await wh.run(ingestSql('insert-refreshed-cases'));
    await dropPlaceTables(wh);
    for (const t of ['refreshed_cases', 'refresh_targets']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
  }
  for (const t of ['refresh_all', 'refresh_strays']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
}
