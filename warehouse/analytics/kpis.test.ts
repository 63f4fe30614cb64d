// KPIs end to end on a real DuckDB: cases go in through the CSV ingest path, numbers come out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestCasesCsv } from '../../ingest/load-cases.ts';
import { parseProfile } from '../../ingest/profile.ts';
import { tempWarehouse, fixture, type TempWarehouse } from '../../test/helpers.ts';
import { computeKpis, resolveWindow } from './kpis.ts';

const known = JSON.parse(readFileSync(fixture('known_answers.json'), 'utf8'));
const AS_OF = Date.parse('2025-01-01T00:00:00Z');
const DAY = 86400000;
const iso = (ms: number) => new Date(ms).toISOString();

const profile = parseProfile({
  name: 'km-test', kind: 'cases', source: 'km', format: 'csv', timezone: 'UTC',
  columns: { case_id: 'id', opened_at: 'opened', closed_at: 'closed', service_name: 'service', expected_at: 'due' },
});

/**
 * The aml durations (days) as cases: an event closes `t` days after it opened; a censored case
 * opened `t` days before the as-of time and is still open, so it is censored at exactly `t`.
 */
function amlCsv(): string {
  const lines = ['id,opened,closed,service,due'];
  for (const arm of ['Maintained', 'Nonmaintained'] as const) {
    const { time, status } = known.km_aml_R_survival[arm];
    time.forEach((t: number, i: number) => {
      if (status[i]) {
        const opened = AS_OF - 400 * DAY + i * 1000;
        lines.push(`${arm}-${i},${iso(opened)},${iso(opened + t * DAY)},${arm},`);
      } else {
        lines.push(`${arm}-${i},${iso(AS_OF - t * DAY)},,${arm},`);
      }
    });
  }
  return lines.join('\n') + '\n';
}

describe('Kaplan–Meier median time to close through the warehouse', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse();
    const path = join(t.dir, 'aml.csv');
    writeFileSync(path, amlCsv());
    const r = await ingestCasesCsv(t.wh, path, profile);
    expect(r.loaded).toBe(23);
  });
  afterAll(() => t.cleanup());

  it('matches R survival: medians 31 and 23 days, censoring open cases at the as-of time', async () => {
    const k = await computeKpis(t.wh, ['service'], { from: '2023-01-01', to: '2024-12-31', as_of: iso(AS_OF), timezone: 'UTC' });
    const byArm = Object.fromEntries(k.rows.map((r) => [r.service, r]));
    expect(byArm.Maintained.median_hours_to_close).toBe(31 * 24);
    expect(byArm.Maintained.median_hours_ci_lower).toBe(18 * 24);
    expect(byArm.Maintained.median_hours_ci_upper).toBeNull();
    expect(byArm.Nonmaintained.median_hours_to_close).toBe(23 * 24);
    expect(byArm.Nonmaintained.median_hours_ci_lower).toBe(8 * 24);
    expect(byArm.Maintained.opened).toBe(11);
    expect(byArm.Maintained.closed).toBe(7);
  });

  it('differs from the naive median of closed cases, which ignores the open ones', async () => {
    const closedOnly = known.km_aml_R_survival.Maintained.time.filter((_: number, i: number) => known.km_aml_R_survival.Maintained.status[i]);
    // Closed durations 9,13,18,23,31,34,48: naive median 23 days, KM median 31.
    expect(closedOnly[Math.floor(closedOnly.length / 2)]).toBe(23);
  });
});

describe('on-time rate (opened cohort) and pending', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
    const path = join(t.dir, 'due.csv');
    const o = Date.parse('2024-06-03T12:00:00Z');
    const h = 3600000;
    writeFileSync(
      path,
      [
        'id,opened,closed,service,due',
        `on-time,${iso(o)},${iso(o + 10 * h)},S,${iso(o + 24 * h)}`,
        `late,${iso(o)},${iso(o + 30 * h)},S,${iso(o + 24 * h)}`,
        `open-overdue,${iso(o)},,S,${iso(o + 24 * h)}`,
        `open-pending,${iso(o)},,S,${iso(o + 1000 * h)}`,
        `closed-after-asof,${iso(o)},${iso(o + 500 * h)},S,${iso(o + 1000 * h)}`,
        `no-target,${iso(o)},${iso(o + 5 * h)},S,`,
        `negative,${iso(o)},${iso(o - 5 * h)},S,${iso(o + 24 * h)}`,
      ].join('\n') + '\n',
    );
    await ingestCasesCsv(t.wh, path, profile);
  });
  afterAll(() => t.cleanup());

  it('is closed by due ÷ (closed + open and past due), with pending reported beside it', async () => {
    const asOf = iso(Date.parse('2024-06-13T12:00:00Z')); // 240 h after opening
    const [row] = (await computeKpis(t.wh, [], { from: '2024-06-01', to: '2024-06-30', as_of: asOf, timezone: 'UTC' })).rows;
    // on time: on-time; late: late, open-overdue; pending: open-pending and closed-after-asof (still open at as-of).
    expect(row).toMatchObject({ opened: 7, closed: 4, on_time: 1, on_time_denominator: 3, pending: 2, excluded_data_errors: 1 });
    expect(row.on_time_rate).toBeCloseTo(1 / 3, 12);
  });

  it('treats the as-of time as "now": a case closed later is still open then', async () => {
    const later = iso(Date.parse('2024-08-01T00:00:00Z'));
    const [row] = (await computeKpis(t.wh, [], { from: '2024-06-01', to: '2024-06-30', as_of: later, timezone: 'UTC' })).rows;
    // open-pending is now past due too; closed-after-asof closed within its target.
    expect(row).toMatchObject({ closed: 5, on_time: 2, on_time_denominator: 5, pending: 0 });
  });

  it('fills a default window from the data and refuses a bad one with the parameter named', async () => {
    const w = await resolveWindow(t.wh, {}, 'UTC');
    // 12 weeks back would be 2024-03-12, but the data starts on 2024-06-03: a default window does not reach before it.
    expect(w).toMatchObject({ to: '2024-06-03', from: '2024-06-03' });
    expect(await resolveWindow(t.wh, { to: '2024-09-01' }, 'UTC')).toMatchObject({ from: '2024-06-10', to: '2024-09-01' });
    await expect(resolveWindow(t.wh, { from: '2024-02-30' }, 'UTC')).rejects.toThrow(/^from "2024-02-30" is not a calendar date/);
    await expect(resolveWindow(t.wh, { from: '2024-07-01', to: '2024-06-01' }, 'UTC')).rejects.toThrow(/from \(2024-07-01\) must be on or before to/);
  });
});

describe('time to close of a case closed, reopened, then cancelled', () => {
  it('keeps its first close (first closed − opened); a case only ever cancelled has none', async () => {
    const t = await tempWarehouse({ memory: true });
    try {
      const events = parseProfile({ name: 'ev', kind: 'case_events', source: 'km', timezone: 'UTC', columns: { case_id: 'id', event_type: 'type', occurred_at: 'at', service_name: 'svc' } });
      const path = join(t.dir, 'ev.csv');
      writeFileSync(path, [
        'id,type,at,svc',
        'A,opened,2024-03-01T00:00:00Z,S', 'A,closed,2024-03-03T00:00:00Z,S', 'A,reopened,2024-03-04T00:00:00Z,S', 'A,cancelled,2024-03-05T00:00:00Z,S',
        'B,opened,2024-03-01T00:00:00Z,S', 'B,cancelled,2024-03-02T00:00:00Z,S',
      ].join('\n') + '\n');
      await ingestCasesCsv(t.wh, path, events);
      const [row] = (await computeKpis(t.wh, [], { from: '2024-03-01', to: '2024-03-31', as_of: '2024-04-01T00:00:00Z', timezone: 'UTC' })).rows;
      expect(row).toMatchObject({ opened: 2, cancelled: 2, median_hours_to_close: 48 });
    } finally {
      t.cleanup();
    }
  });
});

describe('cancellation and backlog as they were at the as-of time, not as the case stands now', () => {
  it('a case cancelled, reopened and closed since was cancelled then; one reopened since was open then', async () => {
    const t = await tempWarehouse({ memory: true });
    try {
      const events = parseProfile({ name: 'ev', kind: 'case_events', source: 'st', timezone: 'UTC', columns: { case_id: 'id', event_type: 'type', occurred_at: 'at', service_name: 'svc' } });
      const path = join(t.dir, 'ev.csv');
      writeFileSync(path, [
        'id,type,at,svc',
        'A,opened,2026-01-01T00:00:00Z,S', 'A,cancelled,2026-01-06T00:00:00Z,S', 'A,reopened,2026-01-10T00:00:00Z,S', 'A,closed,2026-01-12T00:00:00Z,S',
        'B,opened,2026-01-01T00:00:00Z,S', 'B,cancelled,2026-01-06T00:00:00Z,S', 'B,reopened,2026-01-10T00:00:00Z,S', 'B,cancelled,2026-01-12T00:00:00Z,S',
      ].join('\n') + '\n');
      await ingestCasesCsv(t.wh, path, events);
      const at = async (asOf: string) => (await computeKpis(t.wh, [], { from: '2026-01-01', to: '2026-01-31', as_of: asOf, timezone: 'UTC' })).rows[0];
      expect(await at('2026-01-08T00:00:00Z')).toMatchObject({ opened: 2, cancelled: 2, backlog: 0, closed: 0 });
      expect(await at('2026-01-11T00:00:00Z')).toMatchObject({ opened: 2, cancelled: 0, backlog: 2, closed: 0 });
      expect(await at('2026-01-13T00:00:00Z')).toMatchObject({ opened: 2, cancelled: 1, backlog: 0, closed: 1 });
    } finally {
      t.cleanup();
    }
  });
});
