// CSV is read by DuckDB's read_csv, but not with its sniffer: one stray quote in the sniffer's
// sample makes it guess another dialect for the whole file (every row then "has 34 columns"),
// and one 2 MB line makes it fail outright. So the dialect and the header come from here, and
// read_csv runs with them fixed; malformed records are DuckDB's rejects, one each.
//
// One case DuckDB cannot split by itself: a quote that opens and never closes on its line
// swallows the following line(s) into one bad record. `findSwallowed` recognises it (the bad
// record's first line leaves a quote open, and the next line is a clean record on its own), so
// the loader can reject the broken line alone and read the rest.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { SourceFormatError } from './records.ts';
import { checkTextContent, isGzipName } from './content.ts';

export interface Dialect { delimiter: string; quote: string; escape: string }

/** The most columns a CSV header may have (see sniffCsv). */
export const MAX_COLUMNS = 500;

export interface CsvLayout extends Dialect {
  /** Column names as DuckDB would name them (trimmed; empty → column00…; repeats → name_1). */
  columns: string[];
  /** Blank lines before the header. */
  skip: number;
}

export const DELIMITERS = [',', ';', '\t', '|'] as const;

interface Parsed {
  fields: string[];
  /** Index after the record's line break (or the text's end). */
  next: number;
  /** Every quoted field closed, each followed by a delimiter or the line's end. */
  wellQuoted: boolean;
  /** A quote char inside an unquoted field (DuckDB accepts it; a clean record has none). */
  strayQuote: boolean;
  /** The text ended inside a quoted field. */
  openAtEnd: boolean;
}

/** One record from `s` at `i`, as RFC 4180 (and DuckDB) reads it: quoted fields may hold line breaks. */
export function parseRecord(s: string, i: number, d: Dialect): Parsed {
  const fields: string[] = [];
  let wellQuoted = true;
  let strayQuote = false;
  let field = '';
  for (;;) {
    if (s[i] === d.quote) {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i];
        if (c === d.escape && d.escape !== d.quote && (s[i + 1] === d.quote || s[i + 1] === d.escape)) {
          field += s[i + 1];
          i += 2;
        } else if (c === d.quote) {
          if (d.escape === d.quote && s[i + 1] === d.quote) {
            field += c;
            i += 2;
          } else {
            i++;
            closed = true;
            break;
          }
        } else {
          field += c;
          i++;
        }
      }
      if (!closed) return { fields: [...fields, field], next: s.length, wellQuoted: false, strayQuote, openAtEnd: true };
      // After the closing quote: a delimiter, a line break or the end; anything else is malformed.
      while (i < s.length && s[i] !== d.delimiter && s[i] !== '\n' && s[i] !== '\r') {
        wellQuoted = false;
        field += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== d.delimiter && s[i] !== '\n' && !(s[i] === '\r' && (s[i + 1] === '\n' || i + 1 === s.length))) {
        if (s[i] === d.quote) strayQuote = true;
        field += s[i++];
      }
    }
    fields.push(field);
    field = '';
    if (i >= s.length) return { fields, next: i, wellQuoted, strayQuote, openAtEnd: false };
    if (s[i] === d.delimiter) {
      i++;
      continue;
    }
    if (s[i] === '\r') i++;
    if (s[i] === '\n') i++;
    return { fields, next: i, wellQuoted, strayQuote, openAtEnd: false };
  }
}

/** DuckDB's names for a header's fields, so profiles match what read_csv would have called them. */
export function columnNames(header: readonly string[]): string[] {
  const width = String(Math.max(header.length - 1, 0)).length;
  const taken = new Set<string>();
  return header.map((raw, i) => {
    let name = raw.trim();
    if (name === '') name = `column${String(i).padStart(width, '0')}`;
    if (taken.has(name)) {
      let k = 1;
      while (taken.has(`${name}_${k}`)) k++;
      name = `${name}_${k}`;
    }
    taken.add(name);
    return name;
  });
}

/**
 * Checks the file is a CSV export with a header and at least one row, and finds its dialect: the
 * profile's delimiter, else the one of `,` `;` tab `|` that splits the header into the most
 * columns and the first rows into as many.
 */
export async function inspectCsv(file: string, opts: Partial<Dialect> = {}): Promise<CsvLayout> {
  const name = basename(file);
  const head = await checkTextContent(file, 'csv');
  // A multi-byte character may be cut at the end of the head: drop the incomplete tail.
  let text = head.text.toString('utf8');
  if (head.truncated) text = text.slice(0, text.lastIndexOf('\n') + 1);
  let start = 0;
  let skip = 0;
  for (;;) {
    const m = /^[ \t]*\r?\n/.exec(text.slice(start, start + 4096));
    if (!m) break;
    start += m[0].length;
    skip++;
  }
  const quote = opts.quote ?? '"';
  const escape = opts.escape ?? quote;
  const candidates = opts.delimiter ? [opts.delimiter] : DELIMITERS;
  let best: { delimiter: string; header: Parsed; score: number; rows: number; agree: number; widths: number[] } | null = null;
  for (const delimiter of candidates) {
    const d = { delimiter, quote, escape };
    const header = parseRecord(text, start, d);
    if (header.openAtEnd) continue;
    let at = header.next;
    let rows = 0;
    let agree = 0;
    const widths: number[] = [];
    while (rows < 20 && at < text.length) {
      const r = parseRecord(text, at, d);
      if (r.openAtEnd) break;
      at = r.next;
      if (r.fields.length === 1 && r.fields[0].trim() === '') continue;
      rows++;
      widths.push(r.fields.length);
      if (r.fields.length === header.fields.length && r.wellQuoted) agree++;
    }
    // More columns wins; rows that agree with the header about how many there are count for as
    // much again (a broken row or two in a small file must not make a one-column reading win).
    const score = header.fields.length * (header.wellQuoted ? 1 : 0.5) * (0.5 + 0.5 * (rows === 0 ? 1 : agree / rows));
    if (!best || score > best.score) best = { delimiter, header, score, rows, agree, widths };
  }
  if (!best) {
    const why = head.truncated ? `its first line (the header) does not end within the first ${head.bytes.length} bytes` : 'a quote in its first line (the header) is never closed';
    throw new SourceFormatError(`${name} cannot be read as CSV: ${why}`);
  }
  // A header this wide is not a 311 export (the widest real ones have about 40 columns), and every
  // column costs memory for every row: a hostile or broken header must not exhaust the machine.
  if (best.header.fields.length > MAX_COLUMNS) {
    throw new SourceFormatError(`${name} has ${best.header.fields.length} columns in its header; at most ${MAX_COLUMNS} are read (is it the right file, with the right delimiter?)`);
  }
  // When no sampled row has the header's width, the file is not one table (a header with columns
  // no row fills, say): every row would be rejected one by one, at great cost. Refuse it whole.
  // (A header ending in a delimiter, with rows that do not, is a common quirk, not that.)
  const trailingEmpty = best.header.fields.at(-1)?.trim() === '' && best.widths.every((w) => w === best!.header.fields.length - 1);
  if (best.rows >= 5 && best.agree === 0 && !trailingEmpty) {
    const typical = [...best.widths].sort((a, b) => a - b)[best.widths.length >> 1];
    throw new SourceFormatError(
      `${name}: its header has ${best.header.fields.length} columns but none of its first ${best.rows} rows has that many (most have ${typical}); is the header from another file?`,
    );
  }
  const rest = text.slice(best.header.next);
  if (!head.truncated && rest.trim() === '') {
    throw new SourceFormatError(`${name} has a header (${best.header.fields.length} column${best.header.fields.length === 1 ? '' : 's'}) but no rows: there is nothing to load`);
  }
  return { delimiter: best.delimiter, quote, escape, columns: columnNames(best.header.fields), skip };
}

export interface BadRecord {
  /** DuckDB's 1-based record index in the file, the header being record 1. */
  line: number;
  /** DuckDB's byte offset of the record, which may be one past the line's start. */
  start: number;
}

export interface BadRecordInfo extends BadRecord {
  /** 1-based line of the file where the record starts. */
  physical_line: number;
  /** The record's first line leaves a quote open, and the next line is a clean record by itself. */
  swallowed: boolean;
  /** 0-based index of the field whose quote is left open (when swallowed). */
  openField: number | null;
  /** Byte range of the record's first line (without its line break), for a repair. */
  lineStart: number;
  lineEnd: number;
}

/** The decompressed bytes of a file, chunk by chunk (DuckDB's byte positions count these). */
function byteStream(file: string): AsyncIterable<Buffer> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  return (isGzipName(file) ? raw.pipe(createGunzip()) : raw) as AsyncIterable<Buffer>;
}

/**
 * For each bad record: the line it starts on, and whether it swallowed the lines after an
 * unclosed quote. `file` must be uncompressed (the lines are read at their offsets).
 */
export async function describeBadRecords(file: string, bad: readonly BadRecord[], d: Dialect, columns: number, maxLine = 4_000_000): Promise<BadRecordInfo[]> {
  const todo = [...bad].sort((a, b) => a.start - b.start);
  // Pass 1: the line breaks before each offset; the record starts after the last of them.
  const found: { newlines: number; lastBreak: number }[] = [];
  let offset = 0;
  let newlines = 0;
  let lastBreak = -1;
  const count = (chunk: Buffer, from: number, to: number) => {
    let n = chunk.indexOf(0x0a, from);
    while (n !== -1 && n < to) {
      newlines++;
      lastBreak = offset + n;
      n = chunk.indexOf(0x0a, n + 1);
    }
  };
  for await (const chunk of byteStream(file)) {
    let pos = 0;
    while (found.length < todo.length && todo[found.length].start - offset <= chunk.length) {
      const stop = Math.max(pos, todo[found.length].start - offset);
      count(chunk, pos, stop);
      pos = stop;
      found.push({ newlines, lastBreak });
    }
    if (found.length >= todo.length) break;
    count(chunk, pos, chunk.length);
    offset += chunk.length;
  }
  // Pass 2: read each record's first line and the line after it.
  const fh = await open(file, 'r');
  try {
    const out: BadRecordInfo[] = [];
    for (let i = 0; i < found.length; i++) {
      const rec = todo[i];
      const start = found[i].lastBreak + 1;
      const [first, second, firstEnd] = await twoLines(fh, start, maxLine);
      let swallowed = false;
      const own = first === null ? null : parseRecord(first, 0, d);
      if (own?.openAtEnd && second !== null) {
        const next = parseRecord(second, 0, d);
        swallowed = !next.openAtEnd && next.wellQuoted && !next.strayQuote && next.fields.length === columns && next.next >= second.length;
      }
      out.push({ ...rec, physical_line: found[i].newlines + 1, swallowed, openField: swallowed ? own!.fields.length - 1 : null, lineStart: start, lineEnd: firstEnd });
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** The line at `start` and the one after it (null when longer than `max` or absent), and where the first ends. */
async function twoLines(fh: Awaited<ReturnType<typeof open>>, start: number, max: number): Promise<[string | null, string | null, number]> {
  const parts: Buffer[] = [];
  let at = start;
  let total = 0;
  const breaks: number[] = [];
  let window = 1 << 14; // most lines are short: read a little, and more only when a line is long
  while (breaks.length < 2 && total <= 2 * max + 2) {
    const buf = Buffer.alloc(window);
    window = Math.min(window * 4, 1 << 22);
    const { bytesRead } = await fh.read(buf, 0, buf.length, at);
    if (bytesRead === 0) break;
    const got = buf.subarray(0, bytesRead);
    let n = got.indexOf(0x0a);
    while (n !== -1 && breaks.length < 2) {
      breaks.push(total + n);
      n = got.indexOf(0x0a, n + 1);
    }
    parts.push(got);
    total += bytesRead;
    at += bytesRead;
  }
  const all = Buffer.concat(parts);
  const end1 = breaks[0] ?? all.length;
  const end2 = breaks[1] ?? all.length;
  const strip = (b: Buffer) => (b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, -1) : b);
  const first = end1 > max ? null : strip(all.subarray(0, end1)).toString('utf8');
  const second = breaks.length === 0 || end2 - end1 - 1 > max || end2 <= end1 + 1 ? null : strip(all.subarray(end1 + 1, end2)).toString('utf8');
  const firstEnd = start + end1 - (end1 > 0 && all[end1 - 1] === 0x0d ? 1 : 0);
  return [first, second, firstEnd];
}

/**
 * A copy of `file` (decompressed) with the given byte ranges replaced by `replacement(i)`: the
 * broken first lines of swallowing records become placeholder rows, so the lines after them are
 * read again as the records they are, and every line keeps its number.
 */
export async function copyWithLinesReplaced(file: string, target: string, ranges: readonly { start: number; end: number }[], replacement: (i: number) => string): Promise<void> {
  const sorted = ranges.map((r, i) => ({ ...r, i })).sort((a, b) => a.start - b.start);
  const out = await open(target, 'w');
  try {
    let offset = 0;
    let j = 0;
    let skipping = -1; // end of the range being dropped
    for await (const chunk of byteStream(file)) {
      let pos = 0;
      while (pos < chunk.length) {
        if (skipping >= 0) {
          const stop = Math.min(chunk.length, skipping - offset);
          pos = Math.max(pos, stop);
          if (offset + pos >= skipping) skipping = -1;
          continue;
        }
        if (j < sorted.length && sorted[j].start < offset + chunk.length) {
          const stop = sorted[j].start - offset;
          if (stop > pos) await out.write(chunk.subarray(pos, stop));
          pos = Math.max(pos, stop);
          await out.write(replacement(sorted[j].i));
          skipping = sorted[j].end;
          j++;
          continue;
        }
        await out.write(chunk.subarray(pos));
        pos = chunk.length;
      }
      offset += chunk.length;
    }
    if (j < sorted.length) for (; j < sorted.length; j++) await out.write(replacement(sorted[j].i));
  } finally {
    await out.close();
  }
}
