// SLA due times in business hours with holidays, per service, through the real ingest path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../ingest/load.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { loadCalendars } from '../../ingest/calendars.ts';
import { tempWarehouse, type TempWarehouse } from '../helpers.ts';

describe('business-hours SLAs', () => {
  let t: TempWarehouse;
  const services = parseProfile({ name: 's', kind: 'services', source: 'c', timezone: 'UTC', columns: { service_code: 'code', name: 'name', sla_hours: 'sla', sla_calendar: 'cal' } });
  const cases = parseProfile({ name: 'c', kind: 'cases', source: 'c', timezone: 'America/New_York', columns: { case_id: 'id', opened_at: 'opened', service_code: 'code', expected_at: 'due' } });
  const due = (id: string) => t.wh.one<{ due: string }>(`SELECT strftime(due_at, '%Y-%m-%dT%H:%MZ') AS due FROM cases WHERE case_id = $id`, { id: `c:${id}` }).then((r) => r?.due);
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  it('counts only working hours, skipping weekends and holidays; calendar hours otherwise', async () => {
    await loadCalendars(t.wh, t.write('cal.json', JSON.stringify([{
      calendar_id: 'city-hall', timezone: 'America/New_York',
      hours: { mon: ['08:00', '17:00'], tue: ['08:00', '17:00'], wed: ['08:00', '17:00'], thu: ['08:00', '17:00'], fri: ['08:00', '17:00'] },
      holidays: ['2026-11-26'],
    }])));
    await ingestFile(t.wh, t.write('s.csv', 'code,name,sla,cal\nPERMIT,Permit question,9,city-hall\nPOT,Pothole,72,\n'), services);
    await ingestFile(t.wh, t.write('c.csv', [
      'id,opened,code,due',
      'P1,2026-11-25 15:00:00,PERMIT,', // Wed 15:00 + 9 working hours, Thanksgiving skipped → Fri 15:00
      'P2,2026-11-20 16:00:00,PERMIT,', // Fri 16:00 + 9 h → Mon 16:00
      'P3,2026-11-25 15:00:00,PERMIT,2026-11-25 18:00:00', // the source's own due time wins
      'H1,2026-11-25 15:00:00,POT,', // calendar hours: + 72 h
    ].join('\n') + '\n'), cases);
    expect(await due('P1')).toBe('2026-11-27T20:00Z');
    expect(await due('P2')).toBe('2026-11-23T21:00Z');
    expect(await due('P3')).toBe('2026-11-25T23:00Z');
    expect(await due('H1')).toBe('2026-11-28T20:00Z');
  });

  it('re-dates a service\'s cases when its SLA changes', async () => {
    await ingestFile(t.wh, t.write('s2.csv', 'code,name,sla,cal\nPERMIT,Permit question,1,city-hall\n'), services);
    expect(await due('P1')).toBe('2026-11-25T21:00Z'); // Wed 15:00 + 1 working hour
  });

  it('refuses a calendar file with a bad zone or shape, naming it', async () => {
    await expect(loadCalendars(t.wh, t.write('bad.json', JSON.stringify([{ calendar_id: 'x', timezone: 'Mars/Base', hours: {} }])))).rejects.toThrow(/calendar "x": "Mars\/Base" is not an IANA time zone/);
    await expect(loadCalendars(t.wh, t.write('bad2.json', JSON.stringify([{ calendar_id: 'x', timezone: 'UTC', hours: { mon: ['8am', '5pm'] } }])))).rejects.toThrow(/\/0\/hours\/mon/);
  });
});
