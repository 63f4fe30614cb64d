// Files that are not exports at all — empty, only a header, whitespace, a PNG, random bytes, two
// byte-order marks, an HTML error page, a name we cannot read — each refused with one sentence
// that names the file and says what is wrong, and nothing half-loaded. The same files through the
// API are in test/api/ingest.test.ts; here, through ingestFile and the `civic` command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile, parseProfile } from '../../ingest/profile.ts';
import { CivicError } from '../../warehouse/errors.ts';
import { fixture, tempWarehouse, type TempWarehouse } from '../helpers.ts';

const BAD = (name: string) => fixture(`bad/${name}`);

/** [what, file (a fixture or a body written here), name to give it, profile, message]. */
const CASES: [string, string | Buffer, string, string, RegExp][] = [
  ['an empty file (0 bytes)', BAD('empty.csv'), 'empty.csv', 'myla311', /^empty\.csv is empty \(0 bytes\): there is nothing to load$/],
  ['only a header', BAD('header-only.csv'), 'header-only.csv', 'myla311', /^header-only\.csv has a header \(33 columns\) but no rows: there is nothing to load$/],
  ['only whitespace', BAD('whitespace.csv'), 'whitespace.csv', 'myla311', /^whitespace\.csv holds only whitespace \(11 bytes\)/],
  ['a PNG sent as CSV', BAD('pixel.png'), 'photo.csv', 'myla311', /^photo\.csv is a PNG image, not a CSV export$/],
  ['random bytes', BAD('random.csv'), 'random.csv', 'myla311', /^random\.csv holds binary data, not a CSV export \(a NUL byte at byte \d+\)$/],
  ['two UTF-8 byte-order marks', BAD('two-boms.csv'), 'two-boms.csv', 'myla311', /^two-boms\.csv starts with two UTF-8 byte-order marks/],
  ['an HTML error page', BAD('error-page.csv'), 'error-page.csv', 'myla311', /^error-page\.csv looks like HTML or XML/],
  ['an Excel workbook', Buffer.from('PK\u0003\u0004\u0014\u0000\u0006\u0000rest-of-an-xlsx', 'latin1'), 'requests.csv', 'myla311', /^requests\.csv is a ZIP archive \(an Excel \.xlsx workbook is one/],
  ['JSON named .csv', '[{"SRNumber": "1"}]', 'requests.csv', 'myla311', /^requests\.csv looks like JSON \(it starts with "\["\), not a CSV export: name it \.json or \.ndjson$/],
  ['an image name', BAD('pixel.png'), 'pixel.png', 'myla311', /^pixel\.png: by its name \("\.png"\) this is an image, not an export Civic Pulse reads \(it reads \.csv .*\)$/],
  ['an Excel name', 'SRNumber,CreatedDate\n1,2\n', 'requests.xlsx', 'myla311', /^requests\.xlsx: by its name \("\.xlsx"\) this is a spreadsheet workbook \(save the sheet as "CSV UTF-8" and send that\)/],
  ['another format than the profile reads', '[{"SRNumber": "1"}]', 'requests.json', 'myla311', /^requests\.json: by its name this is JSON, but profile "myla311" reads CSV/],
  ['an unknown extension (profile without a format)', '[{"service_request_id": "1"}]', 'requests.dat', 'open311', /^requests\.dat: "\.dat" is not a file type Civic Pulse reads \(it reads \.csv .*\); name the file after its format, or set "format" in the profile$/],
  ['no extension (profile without a format)', '[{"service_request_id": "1"}]', 'requests', 'open311', /^requests: the name has no extension to tell its format/],
  ['an empty JSON file', '', 'requests.json', 'open311', /^requests\.json is empty \(0 bytes\)/],
  ['a JSON file of whitespace', '\n\n  \n', 'requests.json', 'open311', /^requests\.json holds only whitespace/],
  ['an empty JSON list', '[]', 'requests.json', 'open311', /requests\.json holds an empty list of records: there is nothing to load$/],
  ['an HTML page named .json', '<html><body>Bad gateway</body></html>', 'requests.json', 'open311', /^requests\.json looks like HTML or XML \(it starts with "<"\), not JSON/],
  ['a PNG named .xml', BAD('pixel.png'), 'requests.xml', 'open311', /^requests\.xml is a PNG image, not XML$/],
  ['an empty NDJSON file', '', 'requests.ndjson', 'open311', /^requests\.ndjson is empty \(0 bytes\)/],
  ['an empty Arrow file', '', 'requests.arrow', 'open311', /^requests\.arrow is empty \(0 bytes\)/],
  ['a PNG named .arrow', BAD('pixel.png'), 'requests.arrow', 'open311', /^requests\.arrow is a PNG image, not an Arrow IPC file or stream$/],
  ['random bytes named .arrow', BAD('random.csv'), 'requests.arrow', 'open311', /requests\.arrow is not (a readable )?an? Arrow IPC stream or file|requests\.arrow is not .*Arrow/],
];

describe('files that are not exports', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  const place = (body: string | Buffer, name: string) => {
    if (typeof body === 'string' && body.startsWith('/')) {
      const path = join(t.dir, name);
      copyFileSync(body, path);
      return path;
    }
    return t.write(name, body);
  };

  it.each(CASES)('%s: a CivicError that names the file and says what is wrong', async (_what, body, name, profile, message) => {
    const before = await t.wh.one(`SELECT (SELECT count(*) FROM ingest_batches)::INTEGER AS b, (SELECT count(*) FROM case_events)::INTEGER AS e`);
    const err = await ingestFile(t.wh, place(body, name), loadProfile(profile)).then(() => null, (e: Error) => e);
    expect(err, name).toBeInstanceOf(CivicError);
    const text = err!.message.replace(`${t.dir}/`, '');
    expect(text).toMatch(message);
    expect(text).toContain(name);
    expect(text).not.toMatch(/column0/);
    expect(text, 'one line, for the CLI').not.toContain('\n');
    expect((err as CivicError).status).toBe(400);
    expect((err as CivicError).exitCode).toBe(1);
    const after = await t.wh.one(`SELECT (SELECT count(*) FROM ingest_batches)::INTEGER AS b, (SELECT count(*) FROM case_events)::INTEGER AS e`);
    expect(after, 'nothing half-loaded').toEqual(before);
  });

  it('an Arrow file with a schema but no rows is refused like a header-only CSV', async () => {
    const empty = new Table({ service_request_id: vectorFromArray([] as string[]) });
    const err = await ingestFile(t.wh, t.write('none.arrow', tableToIPC(empty, 'file')), loadProfile('open311')).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(CivicError);
    expect(err!.message).toMatch(/none\.arrow holds no rows: there is nothing to load$/);
  });

  it('a gzip-compressed CSV named .csv.gz still loads; one named .csv is named for what it is', async () => {
    const { gzipSync } = await import('node:zlib');
    const body = gzipSync('id,opened\nG1,2024-01-02T08:00:00Z\nG2,2024-01-03T08:00:00Z\n');
    const profile = parseProfile({ name: 'gz', kind: 'cases', source: 'gz', timezone: 'UTC', columns: { case_id: 'id', opened_at: 'opened' } });
    expect(await ingestFile(t.wh, t.write('g.csv.gz', body), profile)).toMatchObject({ read: 2, loaded: 2, rejected: 0 });
    await expect(ingestFile(t.wh, t.write('g.csv', body), profile)).rejects.toThrow(/^g\.csv is gzip-compressed \(name it \.csv\.gz, or unpack it\), not a CSV export$/);
  });
});

describe('civic ingest on a file that is not an export', () => {
  const BIN = fileURLToPath(new URL('../../bin/civic.mjs', import.meta.url));
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse();
    t.wh.close(); // the CLI opens the file itself
  });
  afterAll(() => t.cleanup());

  it.each([
    [BAD('empty.csv'), /^civic: empty\.csv is empty \(0 bytes\): there is nothing to load\n$/],
    [BAD('pixel.png'), /^civic: pixel\.png: by its name \("\.png"\) this is an image, not an export Civic Pulse reads .*\n$/],
    [BAD('two-boms.csv'), /^civic: two-boms\.csv starts with two UTF-8 byte-order marks .*\n$/],
  ])('%s: one line on stderr, exit code 1', async (file, message) => {
    const r = await promisify(execFile)(process.execPath, [BIN, 'ingest', file, '--profile', 'myla311', '--database', t.path], { timeout: 60_000 }).then(
      (x) => ({ code: 0, stderr: x.stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
  }, 90_000);
});
