// JSON arrays of records (Open311 GeoReport v2 `requests.json`, or any API dump) and NDJSON.
import { readFileSync } from 'node:fs';
import { flattenRecord, jsonErrorWhere, SourceFormatError, type ChildRecord, type ReadResult } from './records.ts';

export function readJsonArray(file: string): ReadResult {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // A strict parser: the spec's own examples with `"service_code":006` are not JSON, and we say where.
    throw new SourceFormatError(`${file} is not valid JSON: ${jsonErrorWhere(text, (err as Error).message)}`);
  }
  // Open311 errors come back as [{code, description}]; some servers wrap requests in an object.
  const list = Array.isArray(parsed) ? parsed : (parsed as Record<string, unknown>)?.service_requests ?? (parsed as Record<string, unknown>)?.requests;
  if (!Array.isArray(list)) throw new SourceFormatError(`${file}: expected a JSON array of records (or {"service_requests": [...]})`);
  if (list.length === 0) throw new SourceFormatError(`${file} holds an empty list of records: there is nothing to load`);
  const children: Record<string, ChildRecord[]> = {};
  const result: ReadResult = { records: [], children, unreadable: [] };
  list.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      result.unreadable.push({ row_number: i + 1, field: null, reason: `record ${i + 1} is not an object` });
    } else {
      result.records.push({ row_number: i + 1, values: flattenRecord(item as Record<string, unknown>, i + 1, children) });
    }
  });
  return result;
}

/** One JSON object per line; a line that is not one is kept as unreadable with its line number. */
export function readNdjson(file: string): ReadResult {
  const lines = readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  const children: Record<string, ChildRecord[]> = {};
  const result: ReadResult = { records: [], children, unreadable: [] };
  let row = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    row += 1;
    try {
      const obj = JSON.parse(line);
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not a JSON object');
      result.records.push({ row_number: row, values: flattenRecord(obj, row, children) });
    } catch (err) {
      // The parser's message quotes the line, which may hold fields nobody mapped: say where, not what.
      const at = /position (\d+)/.exec((err as Error).message);
      const why = (err as Error).message === 'not a JSON object' ? 'is valid JSON but not an object' : `is not valid JSON${at ? ` (column ${Number(at[1]) + 1})` : ''}`;
      result.unreadable.push({ row_number: row, field: null, reason: `line ${i + 1} ${why}` });
    }
  });
  return result;
}
