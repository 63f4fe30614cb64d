// Every source format and every kind, on small files written here: what goes in, what comes out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile, parseProfile, type Profile } from '../../ingest/profile.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

const cases = (extra: Partial<Profile> = {}): Profile =>
  parseProfile({
    name: 't', kind: 'cases', source: 'city', timezone: 'America/Chicago',
    columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', service_name: 'type', channel: 'via' },
    ...extra,
  });

describe('source formats', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  it('CSV with a byte-order mark and ";" separators (sniffed, or given in the profile)', async () => {
    const body = '\uFEFFid;opened;closed;type;via\nS1;2024-01-02 08:00:00;2024-01-02 10:00:00;Pothole;Call\nS2;2024-01-03 08:00:00;;"Tree; fallen";Web\n';
    const sniffed = await ingestFile(t.wh, t.write('semi.csv', body), cases());
    expect(sniffed).toMatchObject({ read: 2, loaded: 2, rejected: 0 });
    const given = await ingestFile(t.wh, t.write('semi2.csv', body.replace(/S(\d)/g, 'T$1')), cases({ csv: { delimiter: ';' } }));
    expect(given).toMatchObject({ read: 2, loaded: 2 });
    const s2 = await t.wh.one(`SELECT service_name, channel, status FROM cases WHERE case_id = 'city:S2'`);
    expect(s2).toEqual({ service_name: 'Tree; fallen', channel: 'web', status: 'open' });
  });

  it('CSV with backslash-escaped quotes, when the profile says so', async () => {
    const body = 'id,opened,closed,type,via\nQ1,2024-01-02 08:00:00,,"Sign says \\"STOP\\", bent",Web\n';
    const r = await ingestFile(t.wh, t.write('esc.csv', body), cases({ csv: { escape: '\\' } }));
    expect(r).toMatchObject({ read: 1, loaded: 1, rejected: 0 });
    expect((await t.wh.one(`SELECT service_name FROM cases WHERE case_id = 'city:Q1'`))?.service_name).toBe('Sign says "STOP", bent');
  });

  it('NDJSON, keeping a line that is not JSON as a reject with its number — but not its text', async () => {
    const body = [
      JSON.stringify({ id: 'N1', opened: '2024-02-01T09:00:00-06:00', closed: '2024-02-01T12:00:00-06:00', type: 'Graffiti', via: 'App' }),
      '{"id": "N2", "opened": ',
      '',
      JSON.stringify({ id: 'N3', opened: '2024-02-02 09:00:00', type: 'Graffiti', via: 'Phone' }),
      '{"id": "N4", "caller": Margarethe Quixley}',
    ].join('\n');
    const r = await ingestFile(t.wh, t.write('c.ndjson', body), cases());
    expect(r).toMatchObject({ read: 4, loaded: 2, rejected: 2 });
    const why = await t.wh.all<{ row_number: number; reason: string }>(`SELECT row_number, reason FROM ingest_rejects WHERE batch_id = $b ORDER BY 1`, { b: r.batch_id });
    expect(why.map((w) => w.row_number)).toEqual([2, 4]);
    expect(why[0].reason).toBe('line 2 is not valid JSON');
    expect(why[1].reason).toMatch(/^line 5 is not valid JSON/);
    expect(JSON.stringify(why)).not.toContain('Quixley');
    const n3 = await t.wh.one<{ t: string }>(`SELECT strftime(opened_at, '%Y-%m-%dT%H:%MZ') AS t FROM cases WHERE case_id = 'city:N3'`);
    expect(n3?.t).toBe('2024-02-02T15:00Z'); // no offset: Chicago local time (CST, −06:00)
  });

  it('a date alone is a local day, not a "−05" offset', async () => {
    const r = await ingestFile(t.wh, t.write('d.csv', 'id,opened,closed,type,via\nD1,2024-03-05,,Tree,Phone\n'), cases());
    expect(r.loaded).toBe(1);
    const d1 = await t.wh.one<{ t: string }>(`SELECT strftime(opened_at, '%Y-%m-%dT%H:%MZ') AS t FROM cases WHERE case_id = 'city:D1'`);
    expect(d1?.t).toBe('2024-03-05T06:00Z'); // midnight in Chicago
  });

  it('a timestamp_format with %z keeps the offset the text gives', async () => {
    const p = cases({ timestamp_format: '%m/%d/%Y %H:%M:%S %z' });
    await ingestFile(t.wh, t.write('z.csv', 'id,opened,closed,type,via\nZ1,03/05/2024 10:00:00 +0000,,Tree,Phone\n'), p);
    const z1 = await t.wh.one<{ t: string }>(`SELECT strftime(opened_at, '%Y-%m-%dT%H:%MZ') AS t FROM cases WHERE case_id = 'city:Z1'`);
    expect(z1?.t).toBe('2024-03-05T10:00Z');
  });

  it('Arrow IPC stream: a timestamp with a zone is an instant, one without is local wall time', async () => {
    const table = new Table({
      id: vectorFromArray(['A1', 'A2'], new Utf8()),
      opened: vectorFromArray([Date.parse('2024-03-01T10:00:00Z'), Date.parse('2024-03-02T10:00:00Z')], new TimestampMillisecond()),
      closed: vectorFromArray([Date.parse('2024-03-01T16:30:00Z'), null], new TimestampMillisecond('UTC')),
      type: vectorFromArray(['Pothole', 'Noise'], new Utf8()),
      via: vectorFromArray(['Phone', 'Phone'], new Utf8()),
    });
    const r = await ingestFile(t.wh, t.write('c.arrows', tableToIPC(table, 'stream')), cases());
    expect(r).toMatchObject({ read: 2, loaded: 2, rejected: 0, events_added: 3 });
    const a1 = await t.wh.one(`SELECT strftime(opened_at, '%Y-%m-%dT%H:%MZ') AS opened, strftime(closed_at, '%Y-%m-%dT%H:%MZ') AS closed, status FROM cases WHERE case_id = 'city:A1'`);
    // opened 10:00 with no zone = 10:00 in Chicago = 16:00Z; closed 16:30 UTC stays 16:30Z.
    expect(a1).toEqual({ opened: '2024-03-01T16:00Z', closed: '2024-03-01T16:30Z', status: 'closed' });
  });

  it('says what is wrong with a file that is not what its name claims', async () => {
    await expect(ingestFile(t.wh, t.write('bad.arrow', 'not arrow at all'), cases())).rejects.toThrow(/is not an Arrow IPC stream or file/);
    await expect(ingestFile(t.wh, t.write('bad.xml', '<requests><request><id>1</request>'), cases())).rejects.toThrow(/is not well-formed XML: .*\(line 1, column \d+\)/);
  });
});

describe('kinds', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  it('services, and a later file that changes an SLA and with it the due times of its cases', async () => {
    const services = parseProfile({ name: 's', kind: 'services', source: 'city', timezone: 'UTC', columns: { service_code: 'code', name: 'name', group: 'grp', sla_hours: 'sla' } });
    const first = await ingestFile(t.wh, t.write('s1.csv', 'code,name,grp,sla\nPOT,Pothole,Streets,72\nGRA,Graffiti,Clean,abc\n'), services);
    expect(first).toMatchObject({ read: 2, loaded: 1, rejected: 1 });
    const again = await ingestFile(t.wh, t.write('s2.csv', 'code,name,grp,sla\nPOT,Pothole,Streets,48\nGRA,Graffiti,Clean,96\n'), services);
    expect(again).toMatchObject({ read: 2, loaded: 2, duplicate: 0 });
    const cases = parseProfile({ name: 'c', kind: 'cases', source: 'city', timezone: 'UTC', columns: { case_id: 'id', opened_at: 'opened', service_code: 'code', expected_at: 'due' } });
    await ingestFile(t.wh, t.write('c.csv', 'id,opened,code,due\nP1,2024-05-01T08:00:00Z,POT,\nP2,2024-05-01T08:00:00Z,POT,2024-05-01T20:00:00Z\n'), cases);
    const due = () => t.wh.all(`SELECT strftime(due_at, '%m-%d %H:%M') AS due FROM cases WHERE case_id IN ('city:P1', 'city:P2') ORDER BY case_id`);
    expect(await due()).toEqual([{ due: '05-03 08:00' }, { due: '05-01 20:00' }]);
    await ingestFile(t.wh, t.write('s4.csv', 'code,name,grp,sla\nPOT,Pothole,Streets,24\n'), services);
    // The SLA moves P1's due time; P2 keeps the due time its source gave.
    expect(await due()).toEqual([{ due: '05-02 08:00' }, { due: '05-01 20:00' }]);
    const same = await ingestFile(t.wh, t.write('s3.csv', 'code,name,grp,sla\nPOT,Pothole,Streets,24\n'), services);
    expect(same).toMatchObject({ loaded: 0, duplicate: 1 });
    expect(await t.wh.one(`SELECT sla_hours, service_group FROM services WHERE service_code = 'POT'`)).toEqual({ sla_hours: 24, service_group: 'Streets' });
  });

  it('services: the last row of a code in a file wins, even when it matches what is stored', async () => {
    const services = parseProfile({ name: 's2', kind: 'services', source: 'city', timezone: 'UTC', columns: { service_code: 'code', name: 'name', sla_hours: 'sla' } });
    await ingestFile(t.wh, t.write('w1.csv', 'code,name,sla\nWIN,Window,24\n'), services);
    await ingestFile(t.wh, t.write('w2.csv', 'code,name,sla\nWIN,Window,48\nWIN,Window,24\n'), services);
    expect(await t.wh.one(`SELECT sla_hours FROM services WHERE service_code = 'WIN'`)).toEqual({ sla_hours: 24 });
  });

  it('case events, with an unknown event type rejected', async () => {
    const events = parseProfile({ name: 'e', kind: 'case_events', source: 'city', timezone: 'UTC', columns: { case_id: 'case', event_type: 'what', occurred_at: 'when', service_code: 'svc' }, values: { event_type: { Opened: 'opened', Done: 'closed', Assigned: 'assigned' } } });
    const r = await ingestFile(t.wh, t.write('e.csv', 'case,what,when,svc\nE1,Opened,2024-05-01T08:00:00Z,POT\nE1,Assigned,2024-05-01T09:00:00Z,POT\nE1,Done,2024-05-02T08:00:00Z,POT\nE2,Exploded,2024-05-01T08:00:00Z,POT\n'), events);
    expect(r).toMatchObject({ read: 4, loaded: 3, rejected: 1, events_added: 3 });
    const why = await t.wh.one<{ reason: string }>(`SELECT reason FROM ingest_rejects WHERE batch_id = $b`, { b: r.batch_id });
    expect(why?.reason).toBe('unknown event_type "Exploded"');
    const e1 = await t.wh.one(`SELECT status, strftime(first_response_at, '%H:%M') AS first_response, strftime(due_at, '%Y-%m-%d %H:%M') AS due FROM cases WHERE case_id = 'city:E1'`);
    // Due = opened + the service's SLA (24 h, from the services loaded above).
    expect(e1).toEqual({ status: 'closed', first_response: '09:00', due: '2024-05-02 08:00' });
  });

  it('interactions: citizen identifiers stored only as keyed hashes; bad numbers rejected', async () => {
    const p = parseProfile({ name: 'i', kind: 'interactions', source: 'cc', case_source: 'city', timezone: 'UTC', columns: { interaction_id: 'id', case_id: 'case', channel: 'ch', started_at: 'start', wait_seconds: 'wait', handle_seconds: 'handle', outcome: 'outcome', citizen_id: 'phone' } });
    const r = await ingestFile(t.wh, t.write('i.csv', 'id,case,ch,start,wait,handle,outcome,phone\nI1,E1,phone,2024-05-01T07:59:00Z,12,240,case_created,+1 555 0100\nI2,,phone,2024-05-01T08:30:00Z,-5,0,abandoned,+1 555 0101\nI3,E1,phone,2024-05-01T10:00:00Z,30,120,status_enquiry,+1 555 0100\n'), p, { hashKey: 'secret-1' });
    expect(r).toMatchObject({ read: 3, loaded: 2, rejected: 1 });
    const rows = await t.wh.all<{ case_id: string; citizen_key: string }>(`SELECT case_id, citizen_key FROM interactions ORDER BY interaction_id`);
    expect(rows.map((x) => x.case_id)).toEqual(['city:E1', 'city:E1']);
    expect(rows[0].citizen_key).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].citizen_key).toBe(rows[1].citizen_key); // same caller, same key: repeat contacts stay countable
    // The phone number in none of its forms (not "555" alone: a batch id carries the time of day,
    // and 64 hex digits contain "555" one time in seventy).
    const stored = JSON.stringify(await t.wh.all(`SELECT * FROM interactions`));
    for (const form of ['555 0100', '5550100', '555-0100', '+1 555']) expect(stored).not.toContain(form);
    const why = await t.wh.one<{ reason: string }>(`SELECT reason FROM ingest_rejects WHERE batch_id = $b`, { b: r.batch_id });
    expect(why?.reason).toBe('wait_seconds -5 is outside 0–604800');
  });

  it('survey responses: scores outside their scale rejected', async () => {
    const p = parseProfile({ name: 'r', kind: 'survey_responses', source: 'svy', case_source: 'city', timezone: 'UTC', columns: { response_id: 'id', case_id: 'case', answered_at: 'at', csat: 'csat', nps: 'nps' } });
    const r = await ingestFile(t.wh, t.write('r.csv', 'id,case,at,csat,nps\nR1,E1,2024-05-03T10:00:00Z,5,9\nR2,E1,2024-05-03T11:00:00Z,6,9\nR3,E1,2024-05-03T12:00:00Z,4,7.5\n'), p);
    expect(r).toMatchObject({ read: 3, loaded: 1, rejected: 2 });
    const reasons = (await t.wh.all<{ reason: string }>(`SELECT reason FROM ingest_rejects WHERE batch_id = $b ORDER BY row_number`, { b: r.batch_id })).map((x) => x.reason);
    expect(reasons).toEqual(['csat 6 is outside 1–5', 'not a whole number: "7.5"']);
  });

  it('Open311 notes: one that cannot be dated is kept as a reject under its row; the same note from JSON or XML is one event', async () => {
    const o = loadProfile('open311');
    const json = JSON.stringify([{ service_request_id: 'N1', status: 'open', requested_datetime: '2024-07-01T09:00:00-05:00', description: null,
      notes: [{ type: 'activity', datetime: '2024-07-01T10:00:00-05:00', summary: 'Crew sent', description: null }, { type: 'activity', datetime: 'soon', summary: 'x' }] }]);
    const r = await ingestFile(t.wh, t.write('n.json', json), o);
    expect(r).toMatchObject({ read: 1, loaded: 1, rejected: 0, events_added: 2 });
    const why = await t.wh.one(`SELECT row_number, field, reason FROM ingest_rejects WHERE batch_id = $b`, { b: r.batch_id });
    expect(why).toEqual({ row_number: 1, field: 'notes[2].datetime', reason: 'unparseable date "soon" (expected ISO 8601) in a trail entry; the row itself loaded' });
    const xml = `<?xml version="1.0"?><service_requests><request><service_request_id>N1</service_request_id><status>open</status>
      <requested_datetime>2024-07-01T09:00:00-05:00</requested_datetime><description></description>
      <notes><note><type>activity</type><datetime>2024-07-01T10:00:00-05:00</datetime><summary>Crew sent</summary><description></description></note></notes>
      </request></service_requests>`;
    const again = await ingestFile(t.wh, t.write('n.xml', xml), o);
    expect(again).toMatchObject({ loaded: 0, duplicate: 1, events_added: 0 });
  });

  it('a cancelled case with no time for it is flagged, not silently open', async () => {
    const p = parseProfile({ name: 'cx', kind: 'cases', source: 'cx', timezone: 'UTC', columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', status: 'status' } });
    const r = await ingestFile(t.wh, t.write('cx.csv', 'id,opened,closed,status\nX1,2024-01-01T00:00:00Z,,cancelled\n'), p);
    expect(r.flagged).toBe(1);
    expect(await t.wh.one(`SELECT status, quality_flags FROM cases WHERE case_id = 'cx:X1'`)).toEqual({ status: 'open', quality_flags: ['cancelled_without_time'] });
  });
});
