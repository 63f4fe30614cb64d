// RFC 4180 CSV: the one writer behind `?format=csv` and the reports' CSV files.
import { nextTurn, TURN_SIZE } from '../warehouse/turns.ts';
import { isoInZone, type ReportContent } from './definitions.ts';

/** Characters that make a cell quoted. */
const NEEDS_QUOTES = /[",\r\n]/;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  // A number is never quoted nor prefixed (a negative one is not a formula): most cells of a
  // large export, written without a pattern test.
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  // Prefix formula-looking text (= + - @ tab CR first) so spreadsheets do not execute it; quote when needed.
  const c = s.charCodeAt(0);
  const safe = c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 ? `'${s}` : s;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One row's cells, comma-separated, with its line end. */
function line(r: Record<string, unknown>, columns: readonly string[]): string {
  let out = cell(r[columns[0]]);
  for (let k = 1; k < columns.length; k++) out += ',' + cell(r[columns[k]]);
  return out + '\r\n';
}

export function toCsv(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const cols = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  let out = cols.map(cell).join(',') + '\r\n';
  for (const r of rows) out += line(r, cols);
  return out;
}

/**
 * The same CSV as `toCsv`, as chunks of a few hundred rows with a turn of the event loop between
 * them: a large table streams out while the server goes on answering other requests.
 */
export async function* csvChunks(rows: readonly Record<string, unknown>[], columns: readonly string[], size = TURN_SIZE): AsyncGenerator<string> {
  yield columns.map(cell).join(',') + '\r\n';
  for (let i = 0; i < rows.length; i += size) {
    let out = '';
    const end = Math.min(rows.length, i + size);
    for (let r = i; r < end; r++) out += line(rows[r], columns);
    yield out;
    await nextTurn();
  }
}

/**
 * A report's CSV files: one per table (printed or CSV-only), UTF-8 with a header row, raw numbers
 * (shares as 0–1, hours unrounded) beside their denominators, any instant as ISO 8601 with the
 * offset of the report's zone; plus `about`, what the report covers. Each file streams in chunks.
 */
export function csvFiles(content: ReportContent): { name: string; rows: number; chunks: () => AsyncIterable<string> }[] {
  const base = `${content.id}_${content.period}`;
  const about: Record<string, unknown>[] = [
    { field: 'report', value: content.id },
    { field: 'title', value: content.title },
    { field: 'audience', value: content.audience },
    { field: 'from', value: content.from },
    { field: 'to', value: content.to },
    // A public report's as-of is a day (its instant is one request's last event).
    { field: 'as_of', value: content.audience === 'public' ? isoInZone(content.as_of, content.timezone).slice(0, 10) : isoInZone(content.as_of, content.timezone) },
    { field: 'timezone', value: content.timezone },
    ...content.facts.map((f) => ({ field: f.label, value: f.value })),
  ];
  const files = [{ name: `${base}_about.csv`, rows: about.length, chunks: () => csvChunks(about, ['field', 'value']) }];
  const seen = new Set<string>();
  for (const s of content.sections) {
    for (const b of s.blocks) {
      const t = b.kind === 'table' ? b.table : b.kind === 'chart' ? b.data : undefined;
      if (!t || seen.has(t.name)) continue;
      seen.add(t.name);
      const cols = t.csv_columns ?? t.columns;
      // An instant column is written in the report's zone with its offset, converted as each row is written.
      const convert = cols.map((c) => (c.format === 'instant' ? (v: unknown) => (typeof v === 'string' ? isoInZone(v, content.timezone) : v) : null));
      const rows = t.rows;
      files.push({ name: `${base}_${t.name}.csv`, rows: rows.length, chunks: () => tableChunks(rows, cols.map((c) => c.key), cols.map((c) => c.label), convert) });
    }
  }
  return files;
}

/**
 * A table's CSV in chunks of rows (header labels apart from the keys, per-column conversions),
 * giving the event loop back between chunks: 1M rows stream without holding the server.
 */
async function* tableChunks(rows: readonly Record<string, unknown>[], keys: readonly string[], labels: readonly string[], convert: readonly (((v: unknown) => unknown) | null)[], size = TURN_SIZE * 8): AsyncGenerator<string> {
  yield labels.map(cell).join(',') + '\r\n';
  const n = keys.length;
  for (let i = 0; i < rows.length; i += size) {
    let out = '';
    const end = Math.min(rows.length, i + size);
    for (let r = i; r < end; r++) {
      const row = rows[r];
      for (let k = 0; k < n; k++) {
        const f = convert[k];
        const v = row[keys[k]];
        out += (k ? ',' : '') + cell(f ? f(v) : v);
      }
      out += '\r\n';
    }
    yield out;
    await nextTurn();
  }
}
