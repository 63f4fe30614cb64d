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
  // The days whose duration runs the batch changed: each touched case's day before and after.
  await wh.run(`CREATE OR REPLACE TEMP TABLE run_days AS
    SELECT old_opened_day AS opened_day FROM refresh_all WHERE old_opened_day IS NOT NULL
    UNION SELECT c.opened_day FROM cases c SEMI JOIN refresh_all t ON t.case_id = c.case_id WHERE c.opened_day IS NOT NULL`);
  for (const t of ['refresh_all', 'refresh_strays']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
}

/**
 * Cases whose duration runs are rebuilt in one statement: the lists of a million cases took about
 * 200 MiB of a batch's budget; the days of a larger batch are rebuilt a slice at a time.
 */
export const RUN_CASES_PER_SLICE = 1_000_000;

/**
 * Rebuilds the stored duration runs (warehouse/models/refresh-duration-runs.sql) of the days a
 * batch touched (temp table `run_days`, left by refreshTouchedCases; none: nothing to do), or of
 * every day with `all` — the warehouse's zone changed and every case's local days with it — in
 * slices of consecutive days of at most RUN_CASES_PER_SLICE cases (a day with more is a slice of
 * its own). Runs inside the batch's transaction, after the local days are cut (ingest/load.ts).
 */
export async function refreshDurationRuns(wh: Warehouse, o: { all?: boolean; casesPerSlice?: number } = {}): Promise<void> {
  if (o.all) await wh.run(model('duration-run-days-all'));
  else if ((await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE temporary AND table_name = 'run_days'`))!.n === 0) return;
  const days = await wh.all<{ day: string; cases: number }>(
    `SELECT strftime(r.opened_day, '%Y-%m-%d') AS day, count(c.opened_day)::DOUBLE AS cases
     FROM (SELECT DISTINCT opened_day FROM run_days) r LEFT JOIN cases c ON c.opened_day = r.opened_day
     GROUP BY r.opened_day ORDER BY r.opened_day`);
  await wh.run(`CREATE OR REPLACE TEMP TABLE run_days_pending AS SELECT DISTINCT opened_day FROM run_days`);
  const limit = o.casesPerSlice ?? RUN_CASES_PER_SLICE;
  for (let i = 0; i < days.length; ) {
    let j = i;
    let cases = Number(days[i].cases);
    while (j + 1 < days.length && cases + Number(days[j + 1].cases) <= limit) cases += Number(days[++j].cases);
    await wh.run(`CREATE OR REPLACE TEMP TABLE run_days AS SELECT opened_day FROM run_days_pending WHERE opened_day BETWEEN $a::DATE AND $b::DATE`, { a: days[i].day, b: days[j].day });
    await wh.run(model('refresh-duration-runs')); // drops run_days
    i = j + 1;
  }
  await wh.run(`DROP TABLE IF EXISTS run_days`);
  await wh.run(`DROP TABLE run_days_pending`);
}
