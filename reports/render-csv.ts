// RFC 4180 CSV: the one writer behind `?format=csv` and the reports' CSV files.
import { nextTurn, TURN_SIZE } from '../warehouse/turns.ts';
import type { ReportContent } from './definitions.ts';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  // Quote when needed; prefix formula-looking text so spreadsheets do not execute it.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v !== 'number' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const cols = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  const lines = [cols.map(cell).join(',')];
  for (const r of rows) lines.push(cols.map((c) => cell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/**
 * The same CSV as `toCsv`, as chunks of a few hundred rows with a turn of the event loop between
 * them: a large table streams out while the server goes on answering other requests.
 */
export async function* csvChunks(rows: readonly Record<string, unknown>[], columns: readonly string[], size = TURN_SIZE): AsyncGenerator<string> {
  yield columns.map(cell).join(',') + '\r\n';
  for (let i = 0; i < rows.length; i += size) {
    let out = '';
    for (const r of rows.slice(i, i + size)) out += columns.map((c) => cell(r[c])).join(',') + '\r\n';
    yield out;
    await nextTurn();
  }
}

/** A report's CSV files: one per table, each streamed in chunks (numbers unformatted). */
export function csvFiles(content: ReportContent): { name: string; rows: number; chunks: () => AsyncIterable<string> }[] {
  const { columns, rows } = content.csv;
  const keys = columns.map((c) => c.key);
  return [{ name: `${content.id}_${content.period}.csv`, rows: rows.length, chunks: () => csvChunks(rows, keys) }];
}
