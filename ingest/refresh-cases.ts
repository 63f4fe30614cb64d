// Rebuilding the `cases` rows a batch touched, placed, in as few passes over the warehouse as the
// batch allows: new cases come from the batch's own events, only cases held before are read back,
// only new or moved points are looked up, and each row is written once (no UPDATE afterwards).
// A large batch is rebuilt a slice of rows' cases at a time, so no step's hash table holds the
// whole file's cases at once. The rows are built before the batch's transaction and written in it.
import { readFileSync } from 'node:fs';
import { model, type Warehouse } from '../warehouse/db.ts';
import { applyPlaces, dropPlaceTables, placeStagedCases } from './places.ts';
import { withInsertionOrder } from './memory-budget.ts';
import { settledMasksSql } from '../warehouse/queries/kpi-sql.ts';

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
  /**
   * Whether a new case whose events all come from one row is rebuilt from that row's opened event
   * (which carries the row's end: ingest/events-sql.ts) instead of by grouping: only for a cases
   * file without a trail, where a row's events are its opening and its end. Default false.
   */
  oneRow?: boolean;
  /** Told how many of the touched cases were rebuilt from one row, and how many in all. */
  onRebuilt?: (rebuilt: Rebuilt) => void;
}

export interface Rebuilt { oneRow: number; cases: number }

/**
 * Rows of the file whose cases are rebuilt at a time: a slice's grouping of events into cases,
 * its place lookups and its insert hold about this many cases (ingest/README.md, "Large files").
 */
export const ROWS_PER_SLICE = 500_000;

/** The temp tables a batch's refresh leaves for its transaction (writeTouchedCases), and the ones it works in. */
export const REFRESH_TABLES = ['batch_cases', 'batch_placed', 'batch_place_areas', 'refresh_all', 'refresh_strays', 'refreshed_cases', 'refresh_targets'] as const;

/**
 * Builds the fresh `cases` rows of every case with an event in temp table `new_events`, placed,
 * into temp table `batch_cases` (and what placing them changes in `case_areas` into
 * `batch_placed` and `batch_place_areas`), a slice of rows at a time. Only reads the warehouse:
 * it runs before the batch's transaction (ingest/load.ts), as every step that builds the batch's
 * temp tables does, and writeTouchedCases writes them inside it: DuckDB reads a temp table created
 * inside a transaction as slowly as on one thread (ingest/README.md, "Built first").
 */
export async function prepareTouchedCases(wh: Warehouse, o: RefreshOptions): Promise<void> {
  const perSlice = Math.max(1, Math.floor(o.rowsPerSlice ?? ROWS_PER_SLICE));
  await wh.run(ingestSql('refresh-targets'), { rows_per_slice: perSlice, one_row: o.oneRow === true });
  await wh.run(ingestSql('slice-strays'));
  if (o.onRebuilt) {
    const r = (await wh.one<Rebuilt>(`SELECT count(*) FILTER (WHERE one_row)::INTEGER AS "oneRow", count(*)::INTEGER AS cases FROM refresh_all`))!;
    o.onRebuilt(r);
  }
  await wh.run(`CREATE OR REPLACE TEMP TABLE batch_placed (case_id VARCHAR)`);
  await wh.run(`CREATE OR REPLACE TEMP TABLE batch_place_areas (case_id VARCHAR, area_kind VARCHAR, area_id VARCHAR, method VARCHAR)`);
  const slices = (await wh.all<{ slice: number }>(`SELECT DISTINCT slice FROM refresh_all ORDER BY slice`)).map((r) => r.slice);
  for (const [i, slice] of slices.entries()) {
    o.onPhase?.('refresh');
    await wh.run(ingestSql('slice-targets'), { slice });
    await wh.run(model('refresh-cases'), {
      batch_id: o.batchId, source: o.source, tz: o.timezone,
      first_row: slice * perSlice + 1, last_row: (slice + 1) * perSlice,
    });
    o.onPhase?.('place');
    await wh.run(ingestSql('place-targets'));
    await placeStagedCases(wh);
    // Placed, and each settled case's masks (kpi-sql.ts settledMasksSql) on its row, in the one
    // statement that builds the rows written: the masks in a table of their own first had been
    // one more copy of every row of the slice (1.6-1.8 s per 500,000 cases on the bench's file).
    const placed = settledMasksSql(ingestSql('refreshed-cases-placed'));
    // The first slice's rows make the table, so its columns are exactly what refresh-cases.sql
    // builds, with the places and the masks added here; the others are inserted by name.
    await wh.run(`${i === 0 ? 'CREATE OR REPLACE TEMP TABLE batch_cases AS' : 'INSERT INTO batch_cases BY NAME'}\n${placed.sql}\nORDER BY opened_at, case_id`, placed.params);
    await wh.run(`INSERT INTO batch_placed SELECT case_id FROM place_results`);
    await wh.run(`INSERT INTO batch_place_areas SELECT case_id, area_kind, area_id, method FROM place_areas`);
    await dropPlaceTables(wh);
    for (const t of ['refreshed_cases', 'refresh_targets']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
  }
  await wh.run(`DROP TABLE IF EXISTS refresh_strays`);
}

/**
 * Inside the batch's transaction: the touched cases' old rows out of `cases` and their fresh ones
 * in (temp table `batch_cases`, prepareTouchedCases), and their areas into `case_areas`.
 */
export async function writeTouchedCases(wh: Warehouse, o: { onPhase?: (phase: string) => void } = {}): Promise<void> {
  o.onPhase?.('refresh-insert');
  await applyPlaces(wh, { placed: 'batch_placed', areas: 'batch_place_areas' });
  await wh.run(model('refresh-cases-delete'));
  await withInsertionOrder(wh, () => wh.run(ingestSql('insert-refreshed-cases')));
}

/** Drops the refresh's temp tables (after the transaction, or when the batch failed). */
export async function dropRefreshTables(wh: Warehouse): Promise<void> {
  for (const t of REFRESH_TABLES) await wh.run(`DROP TABLE IF EXISTS ${t}`);
}
