// What every non-CSV reader produces: flat records of text values (our mapping SQL types them),
// child records from nested arrays (an Open311 request's notes[] trail), and the records that
// could not be read, each with where and why.
import { CivicError } from '../../warehouse/errors.ts';

export type Values = Record<string, string | null>;
export interface SourceRecord { row_number: number; values: Values }
export interface ChildRecord { row_number: number; ordinal: number; values: Values }
export interface Unreadable { row_number: number; field: string | null; reason: string }

export interface ReadResult {
  records: SourceRecord[];
  /** Child records by the array's key, e.g. `notes`. */
  children: Record<string, ChildRecord[]>;
  unreadable: Unreadable[];
}

export class SourceFormatError extends CivicError {}

const scalar = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
};

/**
 * Flattens one parsed object: nested objects become dotted keys (`extended_attributes.channel`),
 * arrays of objects become child records, arrays of scalars become JSON text.
 */
export function flattenRecord(obj: Record<string, unknown>, rowNumber: number, children: Record<string, ChildRecord[]>, prefix = ''): Values {
  const out: Values = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      const list = (children[key] ??= []);
      v.forEach((item, i) => {
        if (item && typeof item === 'object') list.push({ row_number: rowNumber, ordinal: i + 1, values: flattenRecord(item as Record<string, unknown>, rowNumber, {}, '') });
      });
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
      Object.assign(out, flattenRecord(v as Record<string, unknown>, rowNumber, children, `${key}.`));
    } else {
      out[key] = scalar(v);
    }
  }
  return out;
}

/** "at position 123" in a JSON.parse message → line and column, so the error says where. */
export function jsonErrorWhere(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${message.replace(/\s*\(line \d+ column \d+\)/, '')} (line ${line}, column ${column})`;
}
