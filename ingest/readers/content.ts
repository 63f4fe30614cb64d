// What is in a file before any reader parses it: an upload named .csv may be empty, a PNG, an
// Excel workbook or an HTML error page. Each gets a sentence that names the file and says what it
// is, instead of a parser's message about column "column0" or a 500.
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { SourceFormatError } from './records.ts';

export const HEAD_BYTES = 1 << 20;

export interface Head {
  /** The first bytes of the (decompressed) content, at most HEAD_BYTES. */
  bytes: Buffer;
  /** The file's size on disk. */
  size: number;
  /** True when the content goes on past `bytes`. */
  truncated: boolean;
  compressed: boolean;
}

export const isGzipName = (file: string) => /\.gz$/i.test(file);

/** The first bytes of a file, decompressed when its name ends in .gz (as DuckDB reads it). */
export async function readHead(file: string, max = HEAD_BYTES): Promise<Head> {
  const { size } = await stat(file);
  const compressed = isGzipName(file);
  if (!compressed) {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size, max + 1));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return { bytes: buf.subarray(0, Math.min(bytesRead, max)), size, truncated: bytesRead > max, compressed };
    } finally {
      await fh.close();
    }
  }
  if (size === 0) return { bytes: Buffer.alloc(0), size, truncated: false, compressed };
  const chunks: Buffer[] = [];
  let got = 0;
  let truncated = false;
  const stream = createReadStream(file).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      got += chunk.length;
      if (got > max) {
        truncated = true;
        break;
      }
    }
  } catch (err) {
    throw new SourceFormatError(`${basename(file)} is named .gz but is not gzip data that can be unpacked (${(err as Error).message})`);
  } finally {
    stream.destroy();
  }
  const all = Buffer.concat(chunks);
  return { bytes: all.subarray(0, Math.min(all.length, max)), size, truncated, compressed };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const SIGNATURES: readonly { magic: number[] | string; what: string }[] = [
  { magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], what: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { magic: 'GIF8', what: 'a GIF image' },
  { magic: '%PDF-', what: 'a PDF document' },
  { magic: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP archive (an Excel .xlsx workbook is one: save the sheet as "CSV UTF-8" and send that)' },
  { magic: [0x50, 0x4b, 0x05, 0x06], what: 'an empty ZIP archive' },
  { magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], what: 'an old-style Excel (.xls) or Office document (save the sheet as "CSV UTF-8" and send that)' },
  { magic: [0x1f, 0x8b], what: 'gzip-compressed (name it .csv.gz, or unpack it)' },
  { magic: 'PAR1', what: 'a Parquet file, which Civic Pulse does not read (convert it to CSV or Arrow)' },
  { magic: 'ARROW1', what: 'an Arrow IPC file (name it .arrow)' },
  { magic: 'SQLite format 3', what: 'an SQLite database' },
  { magic: [0xff, 0xfe], what: 'UTF-16 text (save it as UTF-8, e.g. Excel\'s "CSV UTF-8")' },
  { magic: [0xfe, 0xff], what: 'UTF-16 text (save it as UTF-8, e.g. Excel\'s "CSV UTF-8")' },
];

function startsWith(buf: Buffer, magic: Buffer | number[] | string): boolean {
  const m = Buffer.isBuffer(magic) ? magic : typeof magic === 'string' ? Buffer.from(magic, 'latin1') : Buffer.from(magic);
  return buf.length >= m.length && buf.subarray(0, m.length).equals(m);
}

const isBlankByte = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

/** Text formats: csv, ndjson, json, xml. `expect` names the format for the messages. */
export type TextFormat = 'csv' | 'ndjson' | 'json' | 'xml';

/**
 * Refuses, with a sentence naming the file, content no text reader can use: nothing at all, only
 * whitespace, two byte-order marks, a known binary format, or bytes that are not text. Returns
 * the head without its byte-order mark.
 */
export async function checkTextContent(file: string, format: TextFormat): Promise<Head & { text: Buffer }> {
  const name = basename(file);
  const head = await readHead(file);
  if (head.size === 0) throw new SourceFormatError(`${name} is empty (0 bytes): there is nothing to load`);
  let text = head.bytes;
  if (startsWith(text, BOM)) {
    text = text.subarray(3);
    if (startsWith(text, BOM)) {
      throw new SourceFormatError(
        `${name} starts with two UTF-8 byte-order marks (EF BB BF EF BB BF), so its first column name would begin with an invisible character: ` +
          'the file was re-saved with a second one; remove it (or save the file again as "CSV UTF-8") and load it again',
      );
    }
  }
  for (const s of SIGNATURES) if (startsWith(head.bytes, s.magic)) throw new SourceFormatError(`${name} is ${s.what}, not ${FORMAT_NAME[format]}`);
  const nul = text.indexOf(0);
  if (nul >= 0) throw new SourceFormatError(`${name} holds binary data, not ${FORMAT_NAME[format]} (a NUL byte at byte ${nul + 1})`);
  // Control characters other than tab, line feed, form feed and carriage return do not occur in text exports.
  let control = 0;
  for (const b of text) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) control++;
  if (control > Math.max(2, text.length / 1000)) {
    throw new SourceFormatError(`${name} holds binary data, not ${FORMAT_NAME[format]} (${control} control bytes in its first ${text.length} bytes)`);
  }
  if (!head.truncated && text.every(isBlankByte)) {
    throw new SourceFormatError(`${name} holds only ${text.length === 0 ? 'a byte-order mark' : 'whitespace'} (${head.size} bytes): there is nothing to load`);
  }
  const first = text.find((b) => !isBlankByte(b));
  const looks = first === undefined ? null : String.fromCharCode(first);
  if (format === 'csv' && looks === '<') throw new SourceFormatError(`${name} looks like HTML or XML (it starts with "<"), not a CSV export: was it a web page saved instead of the download?`);
  if (format === 'csv' && (looks === '{' || looks === '[')) throw new SourceFormatError(`${name} looks like JSON (it starts with "${looks}"), not a CSV export: name it .json or .ndjson`);
  if ((format === 'json' || format === 'ndjson') && looks === '<') throw new SourceFormatError(`${name} looks like HTML or XML (it starts with "<"), not JSON: was it an error page instead of the data?`);
  if (format === 'xml' && (looks === '{' || looks === '[')) throw new SourceFormatError(`${name} looks like JSON (it starts with "${looks}"), not XML: name it .json`);
  return { ...head, text };
}

const FORMAT_NAME: Record<TextFormat, string> = { csv: 'a CSV export', ndjson: 'NDJSON', json: 'JSON', xml: 'XML' };

/** Arrow IPC: not empty, and not some other known binary format sent under an .arrow name. */
export async function checkArrowContent(file: string): Promise<void> {
  const name = basename(file);
  const head = await readHead(file, 64);
  if (head.size === 0) throw new SourceFormatError(`${name} is empty (0 bytes): there is nothing to load`);
  for (const s of SIGNATURES) {
    if (s.magic !== 'ARROW1' && startsWith(head.bytes, s.magic)) throw new SourceFormatError(`${name} is ${s.what}, not an Arrow IPC file or stream`);
  }
}
