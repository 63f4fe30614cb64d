// Privacy at the door: names, phones, e-mails and free text in an export never reach the
// warehouse file unless a profile keeps them on purpose; citizen identifiers only as keyed hashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Warehouse } from '../../warehouse/db.ts';
import { ingestFile } from '../../ingest/load.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const PERSONAL = ['Margarethe Quixley', '+1-555-867-5309', 'mquixley@example.org', 'my neighbour Zebulon leaves his boat on the kerb', '4417 Obscurity Lane'];

describe('personal data in an export', () => {
  let dir: string;
  let db: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'civic-privacy-'));
    db = join(dir, 'civic.duckdb');
    const rows = ['id,opened,type,caller_name,caller_phone,caller_email,description,address,ward'];
    for (let i = 0; i < 400; i++) rows.push(`PRIV-${String(i).padStart(4, '0')},2024-04-0${1 + (i % 9)}T10:00:00Z,Abandoned Vehicle,${PERSONAL[0]},${PERSONAL[1]},${PERSONAL[2]},"${PERSONAL[3]}",${PERSONAL[4]},Ward 7`);
    rows.push(',2024-04-01T10:00:00Z,Abandoned Vehicle,Rejected Person,+1-555-000-1111,x@example.org,no id here,1 Nowhere St,Ward 7');
    writeFileSync(join(dir, 'export.csv'), rows.join('\n') + '\n');
    const interactions = ['id,start,channel,caller_phone,agent_notes,wait'];
    for (let i = 0; i < 50; i++) interactions.push(`CALL-${i},2024-04-01T10:0${i % 10}:00Z,phone,${PERSONAL[1]},${PERSONAL[3]},${i}`);
    // A rejected contact (negative wait): its caller id must not reach the rejects table either.
    interactions.push(`CALL-X,2024-04-01T11:00:00Z,phone,+1-555-000-2222,${PERSONAL[3]},-3`);
    writeFileSync(join(dir, 'calls.csv'), interactions.join('\n') + '\n');

    const wh = await Warehouse.open(db);
    const cases = parseProfile({ name: 'p', kind: 'cases', source: 'priv', timezone: 'UTC', columns: { case_id: 'id', opened_at: 'opened', service_name: 'type' }, keep: ['ward'] });
    const r = await ingestFile(wh, join(dir, 'export.csv'), cases, { hashKey: 'k' });
    expect(r).toMatchObject({ loaded: 400, rejected: 1 });
    const calls = parseProfile({ name: 'c', kind: 'interactions', source: 'priv', timezone: 'UTC', columns: { interaction_id: 'id', started_at: 'start', channel: 'channel', citizen_id: 'caller_phone', wait_seconds: 'wait' } });
    expect(await ingestFile(wh, join(dir, 'calls.csv'), calls, { hashKey: 'k' })).toMatchObject({ loaded: 50, rejected: 1 });
    await wh.run('CHECKPOINT');
    wh.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** How many rows of each table, every column as text, contain `value` (case-insensitive). */
  async function occurrences(value: string): Promise<Record<string, number>> {
    const wh = await Warehouse.open(db);
    try {
      const tables = (await wh.all<{ t: string }>(`SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'civic' AND NOT internal`)).map((r) => r.t);
      expect(tables).toEqual(expect.arrayContaining(['case_events', 'cases', 'ingest_rejects', 'interactions', 'ingest_batches']));
      const out: Record<string, number> = {};
      for (const t of tables) {
        // Table names come from DuckDB's own catalog; the searched value is bound.
        const r = await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM "${t}" x WHERE x::VARCHAR ILIKE '%' || $v || '%'`, { v: value });
        if (r!.n > 0) out[t] = r!.n;
      }
      return out;
    } finally {
      wh.close();
    }
  }

  it('the search finds what was mapped or kept (it works)…', async () => {
    expect(await occurrences('Abandoned Vehicle')).toMatchObject({ case_events: 400, cases: 400 });
    expect(await occurrences('Ward 7')).toMatchObject({ case_events: 400 });
  });

  it('…and no name, phone, e-mail, address or free text in any table, not even from rejected rows', async () => {
    for (const value of [...PERSONAL, 'Rejected Person', '+1-555-000-1111', '+1-555-000-2222', 'Quixley', '867-5309', 'Zebulon']) {
      expect(await occurrences(value), value).toEqual({});
    }
  });

  it('the caller is still countable across contacts, by a keyed hash', async () => {
    const wh = await Warehouse.open(db);
    try {
      const k = await wh.one<{ keys: number; n: number }>(`SELECT count(DISTINCT citizen_key)::INTEGER AS keys, count(*)::INTEGER AS n FROM interactions`);
      expect(k).toEqual({ keys: 1, n: 50 });
    } finally {
      wh.close();
    }
  });
});
