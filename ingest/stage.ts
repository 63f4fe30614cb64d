// Getting a file into the temp table `stage` (row_number + one VARCHAR column per source column),
// from which the mapping SQL reads. CSV goes through DuckDB's own read_csv (parallel, fast);
// the other formats through our readers and the appender.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Warehouse } from '../warehouse/db.ts';
import { quoteIdent } from '../warehouse/db.ts';
import type { Profile, SourceFormat } from './profile.ts';
import { SourceFormatError, type ChildRecord, type ReadResult, type SourceRecord, type Unreadable } from './readers/records.ts';
import { readJsonArray, readNdjson } from './readers/json.ts';
import { readXmlRecords } from './readers/xml.ts';
import { readArrow } from './readers/arrow.ts';
import { copyWithLinesReplaced, describeBadRecords, inspectCsv, type CsvLayout } from './readers/csv.ts';
import { checkArrowContent, checkTextContent, isGzipName } from './readers/content.ts';

export interface Staged { unreadable: Unreadable[]; hasTrail: boolean }

export async function stageFile(wh: Warehouse, file: string, profile: Profile, format: SourceFormat, onProgress?: (pct: number) => void): Promise<Staged> {
  if (format === 'csv') return { unreadable: await stageCsv(wh, file, profile, onProgress), hasTrail: false };
  if (format === 'arrow') await checkArrowContent(file);
  else await checkTextContent(file, format);
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
  // No entry in any record (an Open311 feed without notes): no trail to read, and each row's
  // events are its own opening and end (a case from one row is then rebuilt without grouping).
  return { unreadable: read.unreadable, hasTrail: trail.length > 0 };
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

/** DuckDB's reject error types, most telling first: one reason per malformed record. */
const ERROR_ORDER = ['LINE SIZE OVER MAXIMUM', 'INVALID UNICODE', 'INVALID ENCODING', 'UNQUOTED VALUE', 'TOO MANY COLUMNS', 'MISSING COLUMNS'];

interface RejectError { line: number; start: number; error_type: string; column_name: string | null; error_message: string }

/** A malformed record's reason, in words, without any of its text (it may hold unmapped personal fields). */
export function malformedReason(errors: readonly RejectError[], physicalLine: number, columns: number, openColumn?: string): string {
  const at = `malformed CSV record (line ${physicalLine})`;
  if (openColumn !== undefined) return `${at}: a quote opened in column "${openColumn}" is not closed on its line (the lines after it were read on their own)`;
  const e = [...errors].sort((a, b) => rank(a.error_type) - rank(b.error_type))[0];
  const col = e.column_name ? ` in column "${e.column_name}"` : '';
  switch (e.error_type) {
    case 'LINE SIZE OVER MAXIMUM': {
      const size = /Actual Size:\s*(\d+)/.exec(e.error_message)?.[1];
      const max = /line size of (\d+)/.exec(e.error_message)?.[1];
      return `${at}: longer than the ${max ? Number(max).toLocaleString('en-US') : 'allowed'} bytes a record may have${size ? ` (${Number(size).toLocaleString('en-US')} bytes)` : ''}`;
    }
    case 'INVALID UNICODE':
    case 'INVALID ENCODING':
      return `${at}: not valid UTF-8 text${col} (save the file as UTF-8)`;
    case 'UNQUOTED VALUE':
      return `${at}: unbalanced quote${col} (text after a closing quote, or a quote that is not closed)`;
    case 'TOO MANY COLUMNS':
      return `${at}: more fields than the header's ${columns}`;
    case 'MISSING COLUMNS':
      return `${at}: fewer fields than the header's ${columns}`;
    default:
      return `${at}: ${e.error_type.toLowerCase()}${col} (${e.error_message.split('\n')[0]})`;
  }
}
const rank = (t: string) => {
  const i = ERROR_ORDER.indexOf(t);
  return i < 0 ? ERROR_ORDER.length : i;
};

/** read_csv with a fixed dialect and our column names → `stage_raw`, its malformed records → `stage_reject_errors`. */
async function readCsv(wh: Warehouse, path: string, layout: CsvLayout, name: string, onProgress?: (pct: number) => void): Promise<void> {
  // Column names come from the file: bound values cannot name struct fields, so they are quoted as literals.
  const literal = (v: string) => `'${v.replaceAll("'", "''")}'`;
  const columns = `{${layout.columns.map((c) => `${literal(c)}: 'VARCHAR'`).join(', ')}}`;
  for (const t of ['stage_reject_errors', 'stage_reject_scans']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
  const timer = onProgress ? setInterval(() => onProgress(wh.progress()), 200) : undefined;
  try {
    await wh.run(
      `CREATE OR REPLACE TEMP TABLE stage_raw AS SELECT * FROM read_csv($path, auto_detect = false, header = true, skip = $skip,
         delim = $delim, quote = $quote, escape = $escape, columns = ${columns},
         store_rejects = true, rejects_table = 'stage_reject_errors', rejects_scan = 'stage_reject_scans')`,
      { path, skip: layout.skip, delim: layout.delimiter, quote: layout.quote, escape: layout.escape },
    );
  } catch (err) {
    // A CSV error DuckDB could not keep as a reject: its first line says what; the rest quotes the data.
    const msg = String((err as Error).message);
    if (/CSV|Invalid Input Error/i.test(msg)) throw new SourceFormatError(`${name} cannot be read as CSV: ${msg.split('\n')[0].replace(/^Invalid Input Error:\s*/, '')}`, { cause: err });
    throw err;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/**
 * read_csv → `stage` with each record's 1-based `row_number` in the file. Records DuckDB cannot
 * parse (wrong field count, bad quoting, a line too long) come back as unreadable, each with the
 * line it starts on; their text is not stored, because it may hold personal fields the profile
 * does not keep. A quote left open on a line is that line's fault alone: the lines it swallowed
 * are read again as the records they are (see readers/csv.ts).
 */
async function stageCsv(wh: Warehouse, file: string, profile: Profile, onProgress?: (pct: number) => void): Promise<Unreadable[]> {
  const name = basename(file);
  const layout = await inspectCsv(file, { delimiter: profile.csv?.delimiter, quote: profile.csv?.quote, escape: profile.csv?.escape });
  checkSourceColumns(layout.columns, 'the file');
  const ncols = layout.columns.length;
  const marker = `__civic_malformed_${randomUUID().replaceAll('-', '')}_`;
  const placeholders: string[] = []; // reason of placeholder row i
  let source = file;
  let tmp: string | null = null;
  let bad: { record: number; reason: string }[] = [];
  try {
    for (let pass = 0; ; pass++) {
      await readCsv(wh, source, layout, name, onProgress);
      const errors = (await wh.all<RejectError & { line: string; start: string }>(
        `SELECT line::VARCHAR AS line, line_byte_position::VARCHAR AS start, error_type, column_name, error_message FROM stage_reject_errors ORDER BY line, byte_position`,
      )).map((e) => ({ ...e, line: Number(e.line), start: Number(e.start) }));
      for (const t of ['stage_reject_errors', 'stage_reject_scans']) await wh.run(`DROP TABLE IF EXISTS ${t}`);
      if (errors.length === 0) break;
      const byLine = new Map<number, RejectError[]>();
      for (const e of errors) byLine.set(e.line, [...(byLine.get(e.line) ?? []), e]);
      const records = [...byLine.values()].map((es) => ({ line: es[0].line, start: Math.min(...es.map((e) => e.start)) }));
      if (isGzipName(source)) {
        // Lines are looked up at their offsets: unpack once (DuckDB's offsets count unpacked bytes).
        tmp ??= mkdtempSync(join(tmpdir(), 'civic-csv-'));
        const plain = join(tmp, 'unpacked.csv');
        await copyWithLinesReplaced(source, plain, [], () => '');
        source = plain;
      }
      const info = await describeBadRecords(source, records, layout, ncols);
      const swallowed = pass < 20 ? info.filter((i) => i.swallowed) : [];
      if (swallowed.length === 0) {
        bad = info.map((i) => ({ record: i.line - 1 - layout.skip, reason: malformedReason(byLine.get(i.line)!, i.physical_line, ncols) }));
        break;
      }
      // Replace each swallowing line by a placeholder row and read the file again.
      tmp ??= mkdtempSync(join(tmpdir(), 'civic-csv-'));
      const next = join(tmp, `pass-${pass + 1}.csv`);
      const first = placeholders.length;
      for (const s of swallowed) placeholders.push(malformedReason(byLine.get(s.line)!, s.physical_line, ncols, layout.columns[s.openField!] ?? `#${s.openField! + 1}`));
      const q = layout.quote;
      await copyWithLinesReplaced(source, next, swallowed.map((s) => ({ start: s.lineStart, end: s.lineEnd })), (i) => `${q}${marker}${first + i}${q}${layout.delimiter.repeat(ncols - 1)}`);
      if (source !== file) rmSync(source, { force: true });
      source = next;
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  if (bad.length === 0 && placeholders.length === 0) {
    // The common case: rowid order is file order (insertion order is preserved) and contiguous,
    // so a view numbers the rows without copying the file a second time.
    const min = (await wh.one<{ m: string | null }>(`SELECT min(rowid)::VARCHAR AS m FROM stage_raw`))?.m ?? '0';
    if (!/^\d+$/.test(min)) throw new Error(`unexpected rowid ${min}`);
    await wh.run(`CREATE OR REPLACE TEMP VIEW stage AS SELECT (rowid - ${min} + 1)::INTEGER AS row_number, * FROM stage_raw`);
    return [];
  }
  // The k-th good record is record k + (malformed records with fewer than k good records before
  // them); an ASOF join finds that count for each k without comparing every pair. Rowids of the
  // fresh table are its rows' order in the file, contiguous, as in the view above.
  await wh.run(`CREATE OR REPLACE TEMP TABLE stage_bad (record INTEGER)`);
  const appender = await wh.conn.createAppender('stage_bad', 'main', 'temp');
  for (const b of bad) (appender.appendInteger(b.record), appender.endRow());
  appender.closeSync();
  const min = (await wh.one<{ m: string | null }>(`SELECT min(rowid)::VARCHAR AS m FROM stage_raw`))?.m ?? '0';
  if (!/^\d+$/.test(min)) throw new Error(`unexpected rowid ${min}`);
  await wh.run(`CREATE OR REPLACE TEMP TABLE stage AS
    WITH ranked AS (SELECT record - row_number() OVER (ORDER BY record) AS good_before, row_number() OVER (ORDER BY record) AS n FROM stage_bad),
         bad AS (SELECT good_before, max(n) AS n FROM ranked GROUP BY good_before)
    SELECT (s.rowid - ${min} + 1 + coalesce(b.n, 0))::INTEGER AS row_number, s.*
    FROM stage_raw s ASOF LEFT JOIN bad b ON (s.rowid - ${min} + 1) > b.good_before`);
  await wh.run('DROP TABLE stage_raw');
  await wh.run('DROP TABLE stage_bad');
  const unreadable: Unreadable[] = bad.map((b) => ({ row_number: b.record, field: null, reason: b.reason }));
  if (placeholders.length > 0) {
    const first = quoteIdent(layout.columns[0]);
    const rows = await wh.all<{ row_number: number; i: string }>(
      `SELECT row_number, substr(${first}, length($m) + 1) AS i FROM stage WHERE starts_with(${first}, $m)`,
      { m: marker },
    );
    for (const r of rows) unreadable.push({ row_number: r.row_number, field: null, reason: placeholders[Number(r.i)] });
    await wh.run(`DELETE FROM stage WHERE starts_with(${first}, $m)`, { m: marker });
  }
  return unreadable.sort((a, b) => a.row_number - b.row_number);
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
