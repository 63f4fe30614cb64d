import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { columnNames, copyWithLinesReplaced, describeBadRecords, inspectCsv, parseRecord } from './csv.ts';
import { SourceFormatError } from './records.ts';

const D = { delimiter: ',', quote: '"', escape: '"' };
const dir = mkdtempSync(join(tmpdir(), 'civic-csv-test-'));
const write = (name: string, body: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseRecord', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks as one record', () => {
    const s = 'a,"b,c","say ""hi""","two\nlines"\nnext';
    const r = parseRecord(s, 0, D);
    expect(r.fields).toEqual(['a', 'b,c', 'say "hi"', 'two\nlines']);
    expect(s.slice(r.next)).toBe('next');
    expect(r).toMatchObject({ wellQuoted: true, strayQuote: false, openAtEnd: false });
  });

  it('tells a quote left open, text after a closing quote and a stray quote apart', () => {
    expect(parseRecord('a,"b,c\n', 0, D)).toMatchObject({ openAtEnd: true });
    expect(parseRecord('a,"b"c,d\n', 0, D)).toMatchObject({ wellQuoted: false, openAtEnd: false, fields: ['a', 'bc', 'd'] });
    expect(parseRecord('a,b"c,d\n', 0, D)).toMatchObject({ wellQuoted: true, strayQuote: true, fields: ['a', 'b"c', 'd'] });
  });

  it('reads CRLF line ends and a backslash escape when the profile says so', () => {
    expect(parseRecord('a,b\r\nc', 0, D)).toMatchObject({ fields: ['a', 'b'], next: 5 });
    expect(parseRecord('"a\\"b",c\n', 0, { ...D, escape: '\\' }).fields).toEqual(['a"b', 'c']);
  });
});

describe('columnNames', () => {
  it('names columns as DuckDB read_csv does: trimmed, empty → column00…, repeats → _1', () => {
    // What read_csv(all_varchar) called them in DuckDB 1.5 for the same headers.
    expect(columnNames(['', 'a', 'a', ' b ', '', 'c'])).toEqual(['column0', 'a', 'a_1', 'b', 'column4', 'c']);
    expect(columnNames(['', ...Array.from({ length: 16 }, (_, i) => `c${i}`)])[0]).toBe('column00');
    expect(columnNames(['a', 'a', 'a_1'])).toEqual(['a', 'a_1', 'a_1_1']);
  });
});

describe('inspectCsv', () => {
  it('finds the delimiter from the header and the first rows, and skips a BOM and blank lines before the header', async () => {
    expect(await inspectCsv(write('semi.csv', '\uFEFFid;name;"a;b"\n1;x;y\n'))).toMatchObject({ delimiter: ';', columns: ['id', 'name', 'a;b'], skip: 0 });
    expect(await inspectCsv(write('tab.tsv', 'id\tname, with comma\n1\tx\n'))).toMatchObject({ delimiter: '\t', columns: ['id', 'name, with comma'] });
    expect(await inspectCsv(write('pipe.txt', '\n\nid|b\n1|2\n'))).toMatchObject({ delimiter: '|', skip: 2 });
    // A header that splits on both: the rows decide.
    expect(await inspectCsv(write('both.csv', 'a,b;c\n1,2;3\n4,5;6\n'))).toMatchObject({ delimiter: ',' });
    expect(await inspectCsv(write('given.csv', 'a,b;c\n1,2;3\n'), { delimiter: ';' })).toMatchObject({ delimiter: ';', columns: ['a,b', 'c'] });
  });

  it('refuses a header with a quote that never closes, and a file with no rows', async () => {
    await expect(inspectCsv(write('open.csv', '"id,name\n1,2\n'))).rejects.toThrow(/^open\.csv cannot be read as CSV: a quote in its first line \(the header\) is never closed$/);
    await expect(inspectCsv(write('hdr.csv', 'id,name\r\n\r\n'))).rejects.toThrow(/^hdr\.csv has a header \(2 columns\) but no rows/);
    await expect(inspectCsv(write('hdr1.csv', 'id'))).rejects.toThrow(SourceFormatError);
  });
});

describe('describeBadRecords', () => {
  it('finds the line a bad record starts on whether DuckDB points at its first byte or one past it', async () => {
    const body = 'a,b\n1,2,3\n"x\ny",5,6\n7,8\n';
    const file = write('lines.csv', body);
    // Record 2 starts at byte 4 (line 2); record 3 at byte 10 (line 3), its quoted field spans line 4.
    for (const offset of [0, 1]) {
      const info = await describeBadRecords(file, [{ line: 2, start: 4 + offset }, { line: 3, start: 10 + offset }], D, 2);
      expect(info.map((i) => [i.physical_line, i.lineStart, i.swallowed])).toEqual([[2, 4, false], [3, 10, false]]);
    }
  });

  it('recognises a quote left open that swallowed the clean record on the next line', async () => {
    const file = write('swallow.csv', 'id,name,note\n1,"ann,x\n2,bob,"y"\n3,cy,z\n');
    const [info] = await describeBadRecords(file, [{ line: 2, start: 14 }], D, 3);
    expect(info).toMatchObject({ physical_line: 2, swallowed: true, openField: 1, lineStart: 13, lineEnd: 21 });
  });

  it('leaves a legitimate multi-line field alone: the next line is not a record by itself', async () => {
    const file = write('multi.csv', 'id,note\n1,"first\nsecond",extra\n2,b\n');
    const [info] = await describeBadRecords(file, [{ line: 2, start: 8 }], D, 2);
    expect(info).toMatchObject({ physical_line: 2, swallowed: false });
  });
});

describe('copyWithLinesReplaced', () => {
  it('replaces byte ranges and keeps everything else, line for line', async () => {
    const src = write('src.csv', 'h\r\none\r\ntwo\r\nthree\r\n');
    const out = join(dir, 'out.csv');
    await copyWithLinesReplaced(src, out, [{ start: 3, end: 6 }, { start: 13, end: 18 }], (i) => `#${i}`);
    expect(readFileSync(out, 'utf8')).toBe('h\r\n#0\r\ntwo\r\n#1\r\n');
  });
});
