// Real exports (LA, NYC, SF) with lines broken on purpose: an unbalanced quote, too many fields,
// too few, a 2,000,000-character line. Each broken line is rejected alone — with its row number
// and the line it is on — and every other row of the file loads. Row numbers count records (the
// header is not one); SF's export has line breaks inside quoted fields, so there the line differs
// from the row, and both are checked against Python's csv module's reading of the same file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ingestFile, type IngestResult } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { fixture, LA311_CSV, tempWarehouse, type TempWarehouse } from '../helpers.ts';

type Break = (line: string) => string;
/** A quote opened at the start of the line's last field and never closed on the line. */
const openQuote: Break = (l) => `${l.slice(0, l.lastIndexOf(',') + 1)}"${l.slice(l.lastIndexOf(',') + 1)}`;
const extraFields: Break = (l) => `${l},x,y`;
const threeFields: Break = (l) => l.split(',').slice(0, 3).join(',');
const longLine: Break = (l) => {
  const at = l.indexOf(',', l.indexOf(',') + 1) + 1;
  return `${l.slice(0, at)}${'x'.repeat(2_000_000)}${l.slice(at)}`;
};

/** The file with the given 1-based lines broken. */
function broken(file: string, breaks: Record<number, Break>): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [n, f] of Object.entries(breaks)) lines[Number(n) - 1] = f(lines[Number(n) - 1]);
  return lines.join('\n');
}

const lineOf = (file: string, n: number) => readFileSync(file, 'utf8').split('\n')[n - 1];

describe('malformed lines in real exports', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  const rejects = (r: IngestResult) =>
    t.wh.all<{ row_number: number; field: string | null; reason: string; raw: string | null }>(
      `SELECT row_number, field, reason, raw FROM ingest_rejects WHERE batch_id = $b ORDER BY row_number`, { b: r.batch_id });
  const has = async (source: string, ids: string[]) =>
    (await t.wh.all<{ id: string }>(
      `SELECT source_case_id AS id FROM cases WHERE source = $s AND list_contains(string_split($ids, '|'), source_case_id) ORDER BY 1`, { s: source, ids: ids.join('|') },
    )).map((x) => x.id);

  it('LA: an unbalanced quote, too many fields, a 2,000,000-character line and too few fields — four rows rejected, 9,995 loaded', async () => {
    const file = t.write('la-broken.csv', broken(LA311_CSV, { 101: openQuote, 2001: extraFields, 5001: longLine, 7001: threeFields }));
    const r = await ingestFile(t.wh, file, loadProfile('myla311'));
    expect(r).toMatchObject({ read: 9999, loaded: 9995, rejected: 4, duplicate: 0 });
    expect(r.read).toBe(r.loaded + r.rejected + r.duplicate);
    expect(await rejects(r)).toEqual([
      { row_number: 100, field: null, raw: null, reason: 'malformed CSV record (line 101): a quote opened in column "PolicePrecinct" is not closed on its line (the lines after it were read on their own)' },
      { row_number: 2000, field: null, raw: null, reason: "malformed CSV record (line 2001): more fields than the header's 33" },
      { row_number: 5000, field: null, raw: null, reason: `malformed CSV record (line 5001): longer than the 2,000,000 bytes a record may have (${(Buffer.byteLength(lineOf(LA311_CSV, 5001)) + 2_000_000).toLocaleString('en-US')} bytes)` },
      { row_number: 7000, field: null, raw: null, reason: "malformed CSV record (line 7001): fewer fields than the header's 33" },
    ]);
    // The quote on line 101 closes on line 102 as DuckDB reads it; line 102 is a record all the same.
    const ids = [100, 102, 103, 2000, 2002, 5000, 5002, 7000, 7002].map((n) => lineOf(LA311_CSV, n).split(',')[0]);
    expect(await has('la311', ids)).toEqual([...ids].sort());
    const gone = [101, 2001, 5001, 7001].map((n) => lineOf(LA311_CSV, n).split(',')[0]);
    expect(await has('la311', gone)).toEqual([]);
  });

  it('NYC: a quote left open swallows many lines as DuckDB reads them; only its own line is rejected', async () => {
    const nyc = fixture('nyc311/nyc311_2011_sample_2000.csv');
    // Lines 1640 on have no quotes for a while: the open quote on 1639 runs until the next one.
    const after = readFileSync(nyc, 'utf8').split('\n').slice(1639, 1660);
    expect(after.slice(0, 10).some((l) => l.includes('"'))).toBe(false);
    const file = t.write('nyc-broken.csv', broken(nyc, { 11: extraFields, 1639: openQuote }));
    const r = await ingestFile(t.wh, file, loadProfile('nyc311'));
    expect(r).toMatchObject({ read: 2000, loaded: 1998, rejected: 2, duplicate: 0 });
    expect((await rejects(r)).map((x) => [x.row_number, x.reason])).toEqual([
      [10, "malformed CSV record (line 11): more fields than the header's 41"],
      [1638, 'malformed CSV record (line 1639): a quote opened in column "Location" is not closed on its line (the lines after it were read on their own)'],
    ]);
    const ids = after.filter((l) => l !== '').map((l) => l.split(',')[0]);
    expect(await has('nyc311', ids)).toEqual([...ids].sort());
  });

  it('SF (line breaks inside quoted fields): the row number counts records, the reason names the line', async () => {
    const sf = fixture('sf311/sf311_cases_sample_10000.csv');
    const unclosedFirst: Break = (l) => l.replace(/^"(\d+)"/, '"$1');
    const file = t.write('sf-broken.csv', broken(sf, { 3001: extraFields, 6001: unclosedFirst, 9001: longLine }));
    const r = await ingestFile(t.wh, file, loadProfile('sf311'));
    expect(r).toMatchObject({ read: 10000, loaded: 9997, rejected: 3, duplicate: 0 });
    // Record numbers from Python's csv module on the unbroken file: line 3001 is record 2933, 6001 is 5889, 9001 is 8851.
    expect((await rejects(r)).map((x) => [x.row_number, x.reason.replace(/:.*/, '')])).toEqual([
      [2933, 'malformed CSV record (line 3001)'],
      [5889, 'malformed CSV record (line 6001)'],
      [8851, 'malformed CSV record (line 9001)'],
    ]);
    expect(await has('sf311', ['5005197', '973151', '551032'])).toEqual([]);
    // Their neighbours load.
    const next = [3002, 6002, 9002].map((n) => lineOf(sf, n).split(',')[1]);
    expect(await has('sf311', next)).toEqual([...next].sort());
  });

  it('stores no text of a malformed line anywhere', async () => {
    for (const table of ['ingest_rejects', 'case_events', 'cases']) {
      const n = await t.wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table} t WHERE t::VARCHAR LIKE '%xxxxxxxxxx%'`);
      expect(n?.n, table).toBe(0);
    }
  });
});

describe('malformed lines in small files', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  const profile = () => {
    const p = loadProfile('myla311');
    return { ...p, format: undefined, name: 'small', source: 'small', timestamp_format: undefined, columns: { case_id: 'id', opened_at: 'opened', service_name: 'type' }, keep: [], values: {}, bounds: undefined };
  };
  const load = async (name: string, body: string | Buffer) => {
    const r = await ingestFile(t.wh, t.write(name, body), profile());
    const rows = await t.wh.all<{ row_number: number; reason: string }>(`SELECT row_number, reason FROM ingest_rejects WHERE batch_id = $b ORDER BY 1`, { b: r.batch_id });
    const ids = (await t.wh.all<{ id: string }>(`SELECT DISTINCT source_case_id AS id FROM case_events WHERE batch_id = $b ORDER BY 1`, { b: r.batch_id })).map((x) => x.id);
    return { r, rows: rows.map((x) => [x.row_number, x.reason]), ids };
  };

  it('a quote that is never closed, to the end of the file: only its line is lost', async () => {
    const { r, rows, ids } = await load('eof.csv', 'id,opened,type\nE1,2024-01-01T00:00:00Z,"Pothole\nE2,2024-01-02T00:00:00Z,Graffiti\nE3,2024-01-03T00:00:00Z,Trash\n');
    expect(r).toMatchObject({ read: 3, loaded: 2, rejected: 1 });
    expect(rows).toEqual([[1, 'malformed CSV record (line 2): a quote opened in column "type" is not closed on its line (the lines after it were read on their own)']]);
    expect(ids).toEqual(['E2', 'E3']);
  });

  it('a quoted field that really holds a line break stays one record, rejected whole when it has a field too many', async () => {
    const { r, rows, ids } = await load('multi.csv', 'id,opened,type\nM1,2024-01-01T00:00:00Z,"two\nlines",extra\nM2,2024-01-02T00:00:00Z,"one\nmore"\nM3,2024-01-03T00:00:00Z,x\n');
    expect(r).toMatchObject({ read: 3, loaded: 2, rejected: 1 });
    expect(rows).toEqual([[1, "malformed CSV record (line 2): more fields than the header's 3"]]);
    expect(ids).toEqual(['M2', 'M3']);
  });

  it('CRLF line ends, blank lines before the header, and two broken lines: rows and lines still line up', async () => {
    const body = '\r\n\r\nid,opened,type\r\nC1,2024-01-01T00:00:00Z,a\r\nC2,2024-01-01T00:00:00Z,b,c\r\nC3,2024-01-01T00:00:00Z,"open\r\nC4,2024-01-01T00:00:00Z,"d"\r\nC5,2024-01-01T00:00:00Z,e\r\n';
    const { r, rows, ids } = await load('crlf.csv', body);
    expect(r).toMatchObject({ read: 5, loaded: 3, rejected: 2 });
    expect(rows).toEqual([
      [2, "malformed CSV record (line 5): more fields than the header's 3"],
      [3, 'malformed CSV record (line 6): a quote opened in column "type" is not closed on its line (the lines after it were read on their own)'],
    ]);
    expect(ids).toEqual(['C1', 'C4', 'C5']);
  });

  it('a compressed export (.csv.gz) with a broken line', async () => {
    const { gzipSync } = await import('node:zlib');
    const { r, rows, ids } = await load('z.csv.gz', gzipSync('id,opened,type\nZ1,2024-01-01T00:00:00Z,"open\nZ2,2024-01-01T00:00:00Z,"b"\nZ3,2024-01-01T00:00:00Z,c,d\n'));
    expect(r).toMatchObject({ read: 3, loaded: 1, rejected: 2 });
    expect(rows.map((x) => x[0])).toEqual([1, 3]);
    expect(ids).toEqual(['Z2']);
  });
});
