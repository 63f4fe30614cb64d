// Getting a file into the temp table `stage` (row_number + one VARCHAR column per source column),
// from which the mapping SQL reads. CSV goes through DuckDB's own read_csv (parallel, fast);
// the other formats through our readers and the appender.
import { createHash } from 'node:crypto';
import type { Warehouse } from '../warehouse/db.ts';
import { quoteIdent } from '../warehouse/db.ts';
import type { Profile, SourceFormat } from './profile.ts';
import { SourceFormatError, type ChildRecord, type ReadResult, type SourceRecord, type Unreadable } from './readers/records.ts';
import { readJsonArray, readNdjson } from './readers/json.ts';
import { readXmlRecords } from './readers/xml.ts';
import { readArrow } from './readers/arrow.ts';

export interface Staged { unreadable: Unreadable[]; hasTrail: boolean }

export async function stageFile(wh: Warehouse, file: string, profile: Profile, format: SourceFormat, onProgress?: (pct: number) => void): Promise<Staged> {
  if (format === 'csv') return { unreadable: await stageCsv(wh, file, profile, onProgress), hasTrail: false };
  const read: ReadResult =
    format === 'ndjson' ? readNdjson(file) : format === 'json' ? readJsonArray(file) : format === 'xml' ? readXmlRecords(file, profile.xml?.record) : readArrow(file);
  await stageRecords(wh, 'stage', read.records);
  // Two notes may share a time and a type (two follow-ons closed in the same second): a digest of
  // the whole note tells them apart in the event id without storing its free text.
  const trail = (profile.trail ? read.children[profile.trail.from] ?? [] : []).map((c) => ({
    ...c,
    values: { ...c.values, __digest: noteDigest(c.values) },
  }));
  if (profile.trail) await stageRecords(wh, 'stage_trail', trail, [profile.trail.type, profile.trail.occurred_at, '__digest']);
  return { unreadable: read.unreadable, hasTrail: Boolean(profile.trail) };
}

/** Column names we use ourselves in the staged tables (DuckDB compares names without case). */
const RESERVED = new Set(['row_number', 'ordinal', 'rowid']);

/** Fails with a clear message on a source column the staged table cannot hold as it is named. */
export function checkSourceColumns(columns: readonly string[], where: string): void {
  const seen = new Map<string, string>();
  for (const c of columns) {
    if (c.trim() === '') throw new SourceFormatError(`${where} has a column (or key) with an empty name: give it a name`);
    const lower = c.toLowerCase();
    if (RESERVED.has(lower) && !c.startsWith('__')) throw new SourceFormatError(`${where} has a column named "${c}", a name Civic Pulse uses itself: rename it in the export`);
    const other = seen.get(lower);
    if (other !== undefined && other !== c) throw new SourceFormatError(`${where} has columns "${other}" and "${c}", which differ only in case: rename one`);
    seen.set(lower, c);
  }
}

/** Records → a temp table of VARCHAR columns (the union of their keys, in first-seen order). */
async function stageRecords(wh: Warehouse, table: string, records: readonly (SourceRecord | ChildRecord)[], required: string[] = []): Promise<void> {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const c of required) if (!seen.has(c)) (seen.add(c), columns.push(c));
  for (const r of records) for (const k of Object.keys(r.values)) if (!seen.has(k)) (seen.add(k), columns.push(k));
  checkSourceColumns(columns.filter((c) => !required.includes(c)), table === 'stage' ? 'the file' : `the file's nested "${table}" records`);
  const ordinal = records.length > 0 && 'ordinal' in records[0];
  await wh.run(
    `CREATE OR REPLACE TEMP TABLE ${table} (row_number INTEGER${ordinal || table === 'stage_trail' ? ', ordinal INTEGER' : ''}${columns.map((c) => `, ${quoteIdent(c)} VARCHAR`).join('')})`,
  );
  const appender = await wh.conn.createAppender(table, 'main', 'temp');
  for (const r of records) {
    appender.appendInteger(r.row_number);
    if ('ordinal' in r) appender.appendInteger(r.ordinal);
    for (const c of columns) {
      const v = r.values[c];
      if (v === null || v === undefined) appender.appendNull();
      else appender.appendVarchar(v);
    }
    appender.endRow();
  }
  appender.closeSync();
}

/**
 * read_csv → `stage` with each record's 1-based `row_number` in the file. Records DuckDB cannot
 * parse (wrong field count, bad quoting) come back as unreadable; their text is not stored,
 * because it may hold personal fields the profile does not keep.
 */
async function stageCsv(wh: Warehouse, file: string, profile: Profile, onProgress?: (pct: number) => void): Promise<Unreadable[]> {
  const delim = profile.csv?.delimiter;
  const timer = onProgress ? setInterval(() => onProgress(wh.progress()), 200) : undefined;
  try {
    await wh.run(
      `CREATE OR REPLACE TEMP TABLE stage_raw AS SELECT * FROM read_csv($path, all_varchar = true, header = true,
         store_rejects = true, rejects_table = 'stage_reject_errors', rejects_scan = 'stage_reject_scans'
         ${delim ? ', delim = $delim' : ''})`,
      delim ? { path: file, delim } : { path: file },
    );
  } finally {
    if (timer) clearInterval(timer);
  }
  checkSourceColumns((await wh.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE stage_raw)`)).map((r) => r.column_name), 'the file');
  const bad = await wh.all<{ record: number; column_name: string | null; error_type: string; error_message: string }>(
    `SELECT DISTINCT ON (line) (line::INTEGER - 1) AS record, column_name, error_type, error_message
     FROM stage_reject_errors ORDER BY line`,
  );
  if (bad.length === 0) {
    // The common case: rowid order is file order (insertion order is preserved) and contiguous,
    // so a view numbers the rows without copying the file a second time.
    const min = (await wh.one<{ m: string | null }>(`SELECT min(rowid)::VARCHAR AS m FROM stage_raw`))?.m ?? '0';
    if (!/^\d+$/.test(min)) throw new Error(`unexpected rowid ${min}`);
    await wh.run(`CREATE OR REPLACE TEMP VIEW stage AS SELECT (rowid - ${min} + 1)::INTEGER AS row_number, * FROM stage_raw`);
  } else {
    // The k-th good record is record k + (malformed records with fewer than k good records before them).
    await wh.run(`CREATE OR REPLACE TEMP TABLE stage AS
      WITH bad AS (SELECT DISTINCT (line::INTEGER - 1) AS record FROM stage_reject_errors),
           ranked AS (SELECT record - row_number() OVER (ORDER BY record) AS good_before FROM bad),
           good AS (SELECT row_number() OVER (ORDER BY s.rowid) AS k, s.* FROM stage_raw s)
      SELECT (g.k + (SELECT count(*) FROM ranked r WHERE r.good_before < g.k))::INTEGER AS row_number, g.* EXCLUDE (k)
      FROM good g ORDER BY g.k`);
    await wh.run('DROP TABLE stage_raw');
  }
  for (const t of ['stage_reject_errors', 'stage_reject_scans']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
  return bad.map((b) => ({
    row_number: b.record,
    field: b.column_name,
    reason: `malformed CSV record: ${b.error_type.toLowerCase()} (${b.error_message})`,
  }));
}

/** Drops the staged file, whichever form staging left it in. */
export async function dropStage(wh: Warehouse): Promise<void> {
  const kinds = await wh.all<{ name: string; type: string }>(
    `SELECT view_name AS name, 'VIEW' AS type FROM duckdb_views() WHERE temporary AND view_name IN ('stage')
     UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name IN ('stage', 'stage_raw')
     ORDER BY type DESC`,
  );
  for (const k of kinds) await wh.run(`DROP ${k.type} IF EXISTS ${k.name}`);
}

/**
 * A note's identity for its event id: its non-empty values, trimmed, in key order — so the same
 * note read from JSON (`null`) or XML (empty element) gets the same id.
 */
function noteDigest(values: Record<string, string | null>): string {
  const kept = Object.entries(values)
    .map(([k, v]) => [k, v?.trim() ?? ''] as const)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('md5').update(JSON.stringify(kept)).digest('hex');
}
