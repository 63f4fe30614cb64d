import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as turf from '@turf/turf';
import { generateDemoCity, seedDemoCity, DEMO_SERVICES } from './demo-city.ts';
import { tempWarehouse } from '../test/helpers.ts';
import { recordedJurisdiction } from '../warehouse/analytics/jurisdiction.ts';

const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('demo city', () => {
  const a = generateDemoCity({ weeks: 8, seed: 7 });
  const b = generateDemoCity({ weeks: 8, seed: 7 });
  const c = generateDemoCity({ weeks: 8, seed: 8 });
  afterAll(() => [a, b, c].forEach((x) => rmSync(x.dir, { recursive: true, force: true })));

  it('is deterministic: the same seed writes the same bytes, another seed does not', () => {
    expect(digest(a.files.cases)).toBe(digest(b.files.cases));
    expect(digest(a.files.interactions)).toBe(digest(b.files.interactions));
    expect(digest(a.files.surveys)).toBe(digest(b.files.surveys));
    expect(digest(a.files.cases)).not.toBe(digest(c.files.cases));
    expect(a.manifest).toEqual(b.manifest);
  });

  it('has districts as polygons that tile the city, and every case inside one', () => {
    expect(a.districts).toHaveLength(8);
    const rows = readFileSync(a.files.cases, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const r of rows.filter((_, i) => i % 25 === 0)) {
      const [lat, lon, district] = [Number(r[8]), Number(r[9]), r[10]];
      const inside = a.districts.filter((d) => turf.booleanPointInPolygon([lon, lat], d.polygon)).map((d) => d.name);
      // Hot-spot points are scattered around a centre and may cross a boundary; the rest must not.
      if (!(r[1] === 'DUMPING' && district === a.manifest.hotspot.district)) expect(inside).toContain(district);
    }
  });

  it('has weekday seasonality: weekdays busier than Sundays', () => {
    const rows = readFileSync(a.files.cases, 'utf8').trim().split('\n').slice(1);
    const byDay = [0, 0, 0, 0, 0, 0, 0];
    for (const r of rows) byDay[new Date(new Date(r.split(',')[6]).getTime() - 5 * 3600000).getUTCDay()]++;
    expect(Math.min(byDay[1], byDay[2], byDay[3])).toBeGreaterThan(1.5 * byDay[0]);
  });

  it('handles calls realistically: teams, waits, handle times and abandons, with the improvement the manifest states', () => {
    const rows = readFileSync(a.files.interactions, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const [id, caseId, channel, , started, ended, wait, handle, outcome, team] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const cc = a.manifest.contact_centre;
    expect(new Set(rows.map((r) => r[team]))).toEqual(new Set(cc.teams));
    for (const r of rows) {
      const queued = r[channel] === 'phone' || r[channel] === 'walk_in';
      // Web, app, e-mail and social contacts queue for no one; calls and counter visits all have a wait.
      expect(r[wait] !== '', r[id]).toBe(queued);
      if (r[outcome] === 'abandoned') {
        // An abandoned call: a wait, no handle time, no case, over when the caller hung up.
        expect([r[handle], r[caseId]], r[id]).toEqual(['', '']);
        expect(Date.parse(r[ended]) - Date.parse(r[started])).toBe(Number(r[wait]) * 1000);
      } else if (queued) {
        expect(Number(r[handle]), r[id]).toBeGreaterThan(0);
        expect(Date.parse(r[ended]) - Date.parse(r[started])).toBe((Number(r[wait]) + Number(r[handle])) * 1000);
      }
    }
    expect(rows.filter((r) => r[outcome] === 'abandoned').length).toBeGreaterThan(0);
    // The planted improvement, recounted from the file: the team's answered inbound phone calls on
    // each side of the stated day's local midnight (New York: UTC−4 in the demo's autumn weeks).
    const imp = cc.improvement;
    const change = Date.parse(`${imp.date}T04:00:00Z`);
    const [startMs, endMs] = [Date.parse(`${a.manifest.start}T04:00:00Z`), Date.parse(`${a.manifest.end}T05:00:00Z`)];
    const waits = (before: boolean) => rows
      .filter((r) => r[team] === imp.team && r[channel] === imp.channel && r[outcome] !== 'abandoned')
      .filter((r) => Date.parse(r[started]) >= startMs && Date.parse(r[started]) < endMs && Date.parse(r[started]) < change === before)
      .map((r) => Number(r[wait]));
    for (const [side, before] of [['before', true], ['after', false]] as const) {
      const w = waits(before);
      expect(w.length).toBe(imp.observed[side].answered);
      expect(w.reduce((s, x) => s + x, 0) / w.length).toBeCloseTo(imp.observed[side].mean_wait_seconds, 9);
    }
    // About 15 minutes before, about 6 after: within 10% of what the generator planted.
    expect(imp.observed.before.mean_wait_seconds / imp.asa_before_seconds).toBeGreaterThan(0.9);
    expect(imp.observed.before.mean_wait_seconds / imp.asa_before_seconds).toBeLessThan(1.1);
    expect(imp.observed.after.mean_wait_seconds / imp.asa_after_seconds).toBeGreaterThan(0.9);
    expect(imp.observed.after.mean_wait_seconds / imp.asa_after_seconds).toBeLessThan(1.1);
    // Two thirds into the span, on a Monday.
    expect(imp.date).toBe('2026-10-26');
    expect(new Date(`${imp.date}T12:00:00Z`).getUTCDay()).toBe(1);
  });

  it('loads through the real ingest path with services, areas, contacts and surveys', async () => {
    const t = await tempWarehouse({ memory: true });
    try {
      const seeded = await seedDemoCity(t.wh, { weeks: 8, seed: 7 });
      expect(seeded.cases).toMatchObject({ read: a.manifest.cases, loaded: a.manifest.cases, rejected: 0, duplicate: 0 });
      expect(seeded.interactions).toBeGreaterThan(a.manifest.cases);
      expect(seeded.surveys).toBeGreaterThan(0);
      const ref = await t.wh.one<{ s: number; a: number; ch: number; sla: number }>(
        `SELECT (SELECT count(*) FROM services)::INTEGER s, (SELECT count(*) FROM areas)::INTEGER a,
                (SELECT count(DISTINCT channel) FROM cases)::INTEGER ch,
                (SELECT count(*) FROM cases WHERE due_at IS NULL)::INTEGER sla`,
      );
      expect(ref).toEqual({ s: DEMO_SERVICES.length, a: 8, ch: 6, sla: 0 });
      // The warehouse knows it holds the demo city, as the demo's (a real ingest replaces it).
      expect(await recordedJurisdiction(t.wh)).toMatchObject({ name: 'Riverton (demo city)', timezone: 'America/New_York', source: 'demo' });
      expect(seeded.cases.warnings).toEqual([]);
      // Seeding again adds nothing: the same events have the same ids.
      const again = await seedDemoCity(t.wh, { weeks: 8, seed: 7 });
      expect(again.cases).toMatchObject({ loaded: 0, duplicate: a.manifest.cases });
      expect(again.interactions).toBe(0);
    } finally {
      t.cleanup();
    }
  });
});
