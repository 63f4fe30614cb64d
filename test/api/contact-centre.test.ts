// GET /api/contact-centre on the demo city: the improvement planted in the generator (read from
// its manifest, never restated here) shows through the API — exactly, on each side of its day,
// and as a trend finding whose sentence carries the data's own figures; agency scope, CSV, the
// registry in GET /api/measures, and the 400s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { demoWarehouse } from '../demo-warehouse.ts';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import { CONTACT_MEASURES } from '../../warehouse/queries/contact-measures.ts';
import { formatSeconds } from '../../warehouse/analytics/contact-centre.ts';

const DAY = 86_400_000;
const dayBefore = (iso: string) => new Date(Date.parse(`${iso}T00:00:00Z`) - DAY).toISOString().slice(0, 10);

describe('GET /api/contact-centre on the demo city', () => {
  let t: Awaited<ReturnType<typeof demoWarehouse>>;
  let fastify: FastifyInstance;
  let staff: Inject;
  let sanitation: Inject;
  let asOf: string;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    staff = await injectAs(fastify, t.wh, 'manager');
    sanitation = await injectAs(fastify, t.wh, 'manager', ['Sanitation']);
    // The extract's end (local midnight, New York in November: UTC−5): every generated call started before it.
    asOf = `${t.manifest.end}T05:00:00Z`;
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  it('the planted team’s phone answer times, exactly as generated, on each side of the stated day', async () => {
    const imp = t.manifest.contact_centre.improvement;
    const sides = { before: [t.manifest.start, dayBefore(imp.date)], after: [imp.date, dayBefore(t.manifest.end)] } as const;
    for (const [side, [from, to]] of Object.entries(sides) as [keyof typeof sides, readonly [string, string]][]) {
      const q = new URLSearchParams({ from, to, as_of: asOf, team: imp.team, channel: imp.channel });
      const res = await staff(`/api/contact-centre?${q}`);
      expect(res.statusCode, res.body).toBe(200);
      const row = res.json().rows[0];
      expect(row.answered, side).toBe(imp.observed[side].answered);
      expect(row.asa_seconds, side).toBeCloseTo(imp.observed[side].mean_wait_seconds, 9);
    }
  });

  it('finds the improvement as a falling trend of that team’s phone calls, and no other, in a sentence made of the data', async () => {
    const imp = t.manifest.contact_centre.improvement;
    const res = await staff(`/api/contact-centre?weeks=52&by=team,channel&as_of=${asOf}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.series_tested).toBeGreaterThanOrEqual(3);
    expect(body.findings.map((f: { team: string; channel: string }) => [f.team, f.channel])).toEqual([[imp.team, imp.channel]]);
    const f = body.findings[0];
    expect(f).toMatchObject({ kind: 'asa_trend', direction: 'falling' });
    expect(f.p).toBeLessThan(0.001);
    expect(f.slope_per_week_seconds).toBeLessThan(0);
    // The split the data shows is the week the generator changed, give or take one.
    expect(Math.abs(Date.parse(f.change_week) - Date.parse(imp.date))).toBeLessThanOrEqual(7 * DAY);
    // From about 15 to about 6 minutes: the weekly averages within 10% of the planted means.
    expect(f.before_seconds / imp.asa_before_seconds).toBeGreaterThan(0.9);
    expect(f.before_seconds / imp.asa_before_seconds).toBeLessThan(1.1);
    expect(f.after_seconds / imp.asa_after_seconds).toBeGreaterThan(0.9);
    expect(f.after_seconds / imp.asa_after_seconds).toBeLessThan(1.1);
    // The sentence states the finding's own numbers.
    expect(f.sentence).toContain(`Average speed of answer of phone calls for ${imp.team} fell from ${formatSeconds(f.before_seconds, 'min')} to ${formatSeconds(f.after_seconds, 'min')}`);
    expect(f.sentence).toContain(`(weekly averages, ${f.weeks_before} weeks before vs ${f.weeks_after} from `);
    expect(f.sentence).toContain(`Sen's slope −${formatSeconds(-f.slope_per_week_seconds, 'min')} a week, p < 0.001.`);
    // Every team that queues has a row per channel it serves; the digital team queues for no one.
    const teams = new Set(body.rows.map((r: { team: string }) => r.team));
    expect(teams).toEqual(new Set(t.manifest.contact_centre.teams.filter((x) => x !== 'Digital Team')));
  });

  it('groups add up to the whole; a week is cut on Monday in the city’s zone', async () => {
    const window = `from=2026-08-03&to=2026-09-27&as_of=${asOf}`;
    const all = (await staff(`/api/contact-centre?${window}`)).json().rows[0];
    for (const by of ['team', 'channel', 'week', 'team,channel,week']) {
      const rows = (await staff(`/api/contact-centre?${window}&by=${by}`)).json().rows as Record<string, number>[];
      for (const f of ['offered', 'answered', 'answered_within_target', 'abandoned'] as const) expect([by, f, rows.reduce((s, r) => s + r[f], 0)]).toEqual([by, f, all[f]]);
    }
    const weeks = (await staff(`/api/contact-centre?${window}&by=week`)).json().rows.map((r: { week: string }) => r.week);
    expect(weeks).toEqual(['2026-08-03', '2026-08-10', '2026-08-17', '2026-08-24', '2026-08-31', '2026-09-07', '2026-09-14', '2026-09-21']);
    expect(all.service_level).toBeCloseTo(all.answered_within_target / all.offered, 12);
    expect(all.abandonment_rate).toBeCloseTo(all.abandoned / all.offered, 12);
    expect(all.offered).toBe(all.answered + all.abandoned);
  });

  it('CSV: the dimensions and the registry’s columns, the JSON rows’ values', async () => {
    const url = `/api/contact-centre?from=2026-08-03&to=2026-09-27&as_of=${asOf}&by=team,channel`;
    const res = await staff(`${url}&format=csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const header = res.body.split('\n')[0].trim();
    expect(header).toBe(['team', 'channel', ...CONTACT_MEASURES.map((m) => m.name)].join(','));
    const csv = parse(res.body, { columns: true }) as Record<string, string>[];
    const json = (await staff(url)).json().rows as Record<string, string | number | null>[];
    expect(csv.length).toBe(json.length);
    csv.forEach((r, i) => {
      expect([r.team, r.channel, Number(r.offered), Number(r.abandoned)]).toEqual([json[i].team, json[i].channel, json[i].offered, json[i].abandoned]);
      expect(Number(r.asa_seconds)).toBeCloseTo(json[i].asa_seconds as number, 9);
    });
  });

  it('agency scope: a scoped caller sees the contacts of its cases only, as the agency filter does; never the unlinked abandoned calls', async () => {
    const window = `from=2026-08-03&to=2026-09-27&as_of=${asOf}`;
    const mine = (await sanitation(`/api/contact-centre?${window}&by=team`)).json();
    const filtered = (await staff(`/api/contact-centre?${window}&by=team&agency=Sanitation`)).json();
    expect(mine.rows).toEqual(filtered.rows);
    expect(mine.findings).toEqual(filtered.findings);
    const city = (await staff(`/api/contact-centre?${window}`)).json().rows[0];
    const scopedTotal = (await sanitation(`/api/contact-centre?${window}`)).json().rows[0];
    expect(scopedTotal.offered).toBeGreaterThan(0);
    expect(scopedTotal.offered).toBeLessThan(city.offered);
    // Abandoned calls are linked to no case in the demo city: no agency's.
    expect(city.abandoned).toBeGreaterThan(0);
    expect(scopedTotal.abandoned).toBe(0);
    expect((await sanitation(`/api/contact-centre?${window}&agency=Parks`)).statusCode).toBe(400);
  });

  it('dimensions: the channels and teams that queue, for building filters', async () => {
    const d = (await staff('/api/contact-centre/dimensions')).json();
    expect(d.channels.map((c: { name: string }) => c.name)).toEqual(['phone', 'walk_in']);
    expect(d.teams.map((c: { name: string }) => c.name)).toEqual(['Contact Centre North', 'Contact Centre South', 'Evening Team']);
    expect(d.teams.every((x: { offered: number }) => x.offered > 0)).toBe(true);
  });

  it('400s: a bad `by`, a case filter that does not apply, a target out of range, an unknown team', async () => {
    const bad = await staff('/api/contact-centre?by=team,service');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/by "service" is not one of channel, team, day, week, month/);
    expect((await staff('/api/contact-centre?by=wek')).json().message).toMatch(/did you mean "week"/);
    expect((await staff('/api/contact-centre?service=POTHOLE')).statusCode).toBe(400);
    expect((await staff('/api/contact-centre?area=District%201')).statusCode).toBe(400);
    expect((await staff('/api/contact-centre?target_wait=0')).statusCode).toBe(400);
    expect((await staff('/api/contact-centre?target_wait=3601')).statusCode).toBe(400);
    const team = await staff('/api/contact-centre?team=Contact%20Centre%20Nort');
    expect(team.statusCode).toBe(400);
    expect(team.json().message).toMatch(/closest: "Contact Centre North"/);
    expect((await fastify.inject('/api/contact-centre')).statusCode).toBe(401);
  });

  it('GET /api/measures lists the contact measures from their registry', async () => {
    const body = (await fastify.inject('/api/measures')).json();
    expect(body.contact_measures.map((m: { name: string }) => m.name)).toEqual(CONTACT_MEASURES.map((m) => m.name));
    expect(body.contact_measures.find((m: { name: string }) => m.name === 'service_level')).toMatchObject({ kind: 'ratio', numerator: 'answered_within_target', denominator: 'offered', unit: 'share' });
    expect(body.contact_methodology.measures).toHaveLength(CONTACT_MEASURES.length);
  });
});
