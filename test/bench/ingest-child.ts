// One measured load, alone in its own process so its peak memory is its own:
//
//   node --import tsx test/bench/ingest-child.ts ours     <file.csv> <warehouse.duckdb>
//   node --import tsx test/bench/ingest-child.ts read_csv <file.csv> <warehouse.duckdb>
//   node --import tsx test/bench/ingest-child.ts tables   <file.csv> <warehouse.duckdb>
//   node --import tsx test/bench/ingest-child.ts flat     <file.csv> <warehouse.duckdb>
//
// `ours` is the real ingest path (ingestCasesCsv with the demo-city profile); `read_csv` is
// DuckDB's own `CREATE TABLE t AS SELECT * FROM read_csv(file)`, the ceiling for any loader built
// on it; `tables` is DuckDB alone writing the data model's tables from the file, nothing else
// done, and `flat` the same for a model that stores each row once (tables-floor.ts; not in the
// bench run). All open the warehouse the same way (Warehouse.open: file + migrations) and
// time only the load itself. The last line on stdout is the JSON of the figures.
import { Warehouse } from '../../warehouse/db.ts';
import { ingestCasesCsv, type IngestResult } from '../../ingest/load-cases.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { loadFlatRowsOnly, loadTablesOnly } from './tables-floor.ts';

export type ChildMode = 'ours' | 'read_csv' | 'tables' | 'flat';
const MODES: readonly string[] = ['ours', 'read_csv', 'tables', 'flat'];

export interface ChildResult {
  mode: ChildMode;
  file: string;
  /** Rows the load read (ours: IngestResult.read; read_csv: rows in the created table; tables: rows read). */
  rows: number;
  /** The load itself, commit included (Warehouse open and close excluded). */
  seconds: number;
  /** CPU time of the load, all threads (user + system): less disturbed than `seconds` by other processes. */
  cpu_seconds: number;
  /** CPU time of the whole child process (start-up, open and close included). */
  process_cpu_seconds: number;
  /** Closing the warehouse (DuckDB checkpoints the WAL into the file here). */
  close_seconds: number;
  /** maxRSS once the warehouse is open, before the load: the process's baseline. */
  rss_before_kib: number;
  /** Peak RSS of the whole process (process.resourceUsage().maxRSS, KiB). */
  peak_rss_kib: number;
  ingest?: IngestResult;
}

async function main(): Promise<void> {
  const [modeArg, file, db] = process.argv.slice(2);
  if (!MODES.includes(modeArg) || !file || !db) {
    console.error('usage: ingest-child.ts ours|read_csv|tables|flat <file.csv> <warehouse.duckdb>');
    process.exit(2);
  }
  const mode = modeArg as ChildMode;
  const wh = await Warehouse.open(db);
  const rssBefore = process.resourceUsage().maxRSS;
  let rows: number;
  let ingest: IngestResult | undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (mode === 'ours') {
    ingest = await ingestCasesCsv(wh, file, loadProfile('demo-city'));
    rows = ingest.read;
  } else if (mode === 'tables' || mode === 'flat') {
    rows = await (mode === 'tables' ? loadTablesOnly : loadFlatRowsOnly)(wh, file);
  } else {
    await wh.run(`CREATE TABLE bench_read_csv AS SELECT * FROM read_csv($path)`, { path: file });
    rows = 0; // counted below, outside the timing
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (mode === 'read_csv') rows = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM bench_read_csv`))!.n;
  if (mode === 'tables' || mode === 'flat') {
    // What was written, counted outside the timing: a case per row, and its events.
    const written = await wh.one<{ cases: number; events: number; ended: number }>(
      `SELECT (SELECT count(*) FROM cases)::INTEGER AS cases, (SELECT count(*) FROM ${mode === 'tables' ? 'case_events' : 'flat_rows'})::INTEGER AS events,
              (SELECT count(*) FILTER (WHERE closed_at IS NOT NULL) FROM cases)::INTEGER + (SELECT count(*) FILTER (WHERE cancelled_at IS NOT NULL) FROM cases)::INTEGER AS ended`);
    const wantEvents = mode === 'tables' ? rows + written!.ended : rows;
    if (written!.cases !== rows || written!.events !== wantEvents) {
      throw new Error(`${mode}: ${rows} rows read but ${written!.cases} cases and ${written!.events} ${mode === 'tables' ? 'events' : 'rows'} written (expected ${wantEvents})`);
    }
  }
  const t1 = performance.now();
  wh.close();
  const closeSeconds = (performance.now() - t1) / 1000;
  const out: ChildResult = {
    mode,
    file,
    rows,
    seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    close_seconds: closeSeconds,
    process_cpu_seconds: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1e6,
    rss_before_kib: rssBefore,
    peak_rss_kib: process.resourceUsage().maxRSS,
    ingest,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

await main();
