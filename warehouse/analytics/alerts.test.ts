// Alerts, warehouse side: the findings are the dashboard's own (same sentences, same statuses),
// keyed stably and linked to the right view; a subscription's scope never reaches another
// agency; and the episode state machine sends once, clears and rearms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWarehouse } from '../../test/demo-warehouse.ts';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import type { DemoManifest } from '../../ingest/demo-city.ts';
import { DEMO_SERVICES } from '../../ingest/demo-city.ts';
import { computeFindings } from './findings.ts';
import { computeOverview } from './overview.ts';
import { resolveWindow } from './window.ts';
import {
  alertFindings,
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  reconcile,
  recordAttempt,
  subscriptionEvents,
  subscriptionsToEvaluate,
  type AlertFinding,
  type AlertFindings,
} from './alerts.ts';

const TZ = 'America/New_York';
const manager = (agencies: string[] | null, token_id = 'tok-1') => ({ token_id, name: 'A manager', role: 'manager', agencies });

describe('alert findings on the demo city', () => {
  let t: TempWarehouse & { manifest: DemoManifest };
  beforeAll(async () => {
    t = await demoWarehouse();
  });
  afterAll(() => t.cleanup());

  it('are the dashboard findings and statuses, keyed by kind, service, area and direction, with links to their views', async () => {
    const { subscription: sub } = await createSubscription(t.wh, { owner: manager(null), filter: {}, kinds: ['trend', 'anomaly', 'below_target'], channel: { email: 'm@city.example' }, timezone: TZ });
    expect(sub.area_kind).toBe('district');
    const got = await alertFindings(t.wh, sub, { timezone: TZ });

    // Trends: exactly /api/trends' (52 weeks, by service and by area), sentence for sentence.
    const w52 = await resolveWindow(t.wh, { weeks: 52 }, TZ);
    expect(got.as_of).toBe(w52.as_of);
    const dashboard = [];
    for (const by of [['service'], ['area']] as const) dashboard.push(...(await computeFindings(t.wh, { window: w52, by: [...by], period: 'week', alpha: 0.05 })).trends);
    const trends = got.findings.filter((f) => f.kind === 'trend');
    expect(trends.map((f) => f.sentence).sort()).toEqual(dashboard.map((f) => f.sentence).sort());
    // The planted rising trend: Pothole Repair, and its district.
    const pothole = trends.find((f) => f.service === 'Pothole Repair')!;
    expect(pothole.key).toBe('trend|Pothole Repair||rising');
    expect(pothole.view).toBe('/service?service=POTHOLE');
    const district = Number(t.manifest.rising_trend.district.replace('District ', ''));
    const area = trends.find((f) => f.area === t.manifest.rising_trend.district)!;
    expect(area.key).toBe(`trend||${t.manifest.rising_trend.district}|rising`);
    expect(area.view).toBe(`/area?area=D${district}&area_kind=district`);

    // Under target: the overview's statuses (12 weeks) for the whole scope, each service and each area.
    const ov = await computeOverview(t.wh, await resolveWindow(t.wh, { weeks: 12 }, TZ), {});
    const below = got.findings.filter((f) => f.kind === 'below_target');
    const expected = [
      ...(ov.headline.find((h) => h.name === 'on_time_rate')!.status === 'below target' ? ['below_target|||'] : []),
      ...ov.worst_services.filter((r) => r.status === 'below target').map((r) => `below_target|${r.service}||`),
      ...ov.worst_areas.filter((r) => r.status === 'below target').map((r) => `below_target||${r.area}|`),
    ];
    expect(below.map((f) => f.key).sort()).toEqual(expected.sort());
    // The slow district is among them, linked to its page, with the overview's own figures.
    const slow = below.find((f) => f.area === t.manifest.slow_area.district)!;
    const row = ov.worst_areas.find((r) => r.area === t.manifest.slow_area.district)!;
    expect(slow.view).toBe(`/area?area=${row.area_id}&area_kind=district`);
    expect(slow.detail).toMatchObject({ on_time: row.on_time, on_time_denominator: row.on_time_denominator, target: row.target });
    expect(slow.sentence).toContain(`${(100 * row.on_time / row.on_time_denominator).toFixed(1)}% (of ${row.on_time_denominator.toLocaleString('en-US')})`);

    // Keys are stable: another evaluation of the same data gives the same keys.
    const again = await alertFindings(t.wh, sub, { timezone: TZ });
    expect(again.findings.map((f) => f.key)).toEqual(got.findings.map((f) => f.key));
    // Anomalies are news only when recent: the planted anomaly week is months before the data's end.
    expect(got.findings.filter((f) => f.kind === 'anomaly' && f.service === 'Missed Trash Pickup')).toEqual([]);
    const during = await alertFindings(t.wh, sub, { timezone: TZ, as_of: dayAfterWeek(t.manifest.anomaly_week.week_start) });
    const trash = during.findings.find((f) => f.kind === 'anomaly' && f.service === 'Missed Trash Pickup')!;
    expect(trash.key).toBe('anomaly|Missed Trash Pickup||');
    expect(trash.view).toBe('/service?service=TRASH');
  }, 120_000); // several year-long analyses, cold, on a shared machine

  it('never reaches past the owner\'s agencies, and refuses a scope outside them', async () => {
    const { subscription: sub } = await createSubscription(t.wh, { owner: manager(['Sanitation']), filter: {}, kinds: ['trend', 'below_target'], channel: { email: 'm@city.example' }, timezone: TZ });
    expect(sub.agencies).toEqual(['Sanitation']);
    const got = await alertFindings(t.wh, sub, { timezone: TZ });
    const sanitation = new Set(DEMO_SERVICES.filter((s) => s.agency === 'Sanitation').map((s) => s.name));
    const services = got.findings.filter((f) => f.service).map((f) => f.service!);
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) expect(sanitation.has(s), s).toBe(true);
    expect(got.findings.some((f) => f.service === 'Pothole Repair')).toBe(false);

    await expect(createSubscription(t.wh, { owner: manager(['Sanitation']), filter: { service: 'POTHOLE' }, kinds: ['trend'], channel: { email: 'm@city.example' }, timezone: TZ }))
      .rejects.toMatchObject({ status: 400, parameter: 'body/service' });
    await expect(createSubscription(t.wh, { owner: manager(['Sanitation']), filter: { agency: 'Streets' }, kinds: ['trend'], channel: { email: 'm@city.example' }, timezone: TZ }))
      .rejects.toMatchObject({ status: 400, parameter: 'body/agency', message: expect.stringContaining('in your scope') });
    await expect(createSubscription(t.wh, { owner: manager(null), filter: { area: 'District 99' }, kinds: ['trend'], channel: { email: 'm@city.example' }, timezone: TZ }))
      .rejects.toMatchObject({ status: 400, parameter: 'body/area' });
  });
});

/** The Monday after the anomaly week's Friday: the week is in the last 7 days. */
const dayAfterWeek = (monday: string) => new Date(Date.parse(`${monday}T12:00:00Z`) + 7 * 86_400_000).toISOString();

describe('the episode state machine', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await tempWarehouse({ memory: true });
  });
  afterAll(() => t.cleanup());

  const finding = (key: string, sentence = `finding ${key}`): AlertFinding => ({ key, kind: 'trend', service: null, area: null, sentence, view: `/?k=${key}`, detail: { n: 1 } });
  const found = (...f: AlertFinding[]): AlertFindings => ({ as_of: '2026-11-15T12:00:00.000Z', findings: f });
  const link = (view: string) => `http://civic.example${view}`;

  it('opens, sends once, clears and rearms; a failed send stays to be sent with its error', async () => {
    // The scope is checked against the data: an empty warehouse has no names to check, and none are given.
    const { subscription: sub } = await createSubscription(t.wh, { owner: manager(null), filter: {}, kinds: ['trend'], channel: { webhook: 'http://127.0.0.1:1/hook' }, timezone: TZ });
    const id = sub.subscription_id;
    expect((await subscriptionsToEvaluate(t.wh))[0].webhook_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // 1: A and B appear: two to send.
    let r = await reconcile(t.wh, id, found(finding('a'), finding('b')), link, '2026-11-16T08:00:00Z');
    expect(r.opened.map((e) => e.finding_key)).toEqual(['a', 'b']);
    expect(r.to_send.map((e) => e.finding_key)).toEqual(['a', 'b']);
    expect(r.to_send[0].link).toBe('http://civic.example/?k=a');
    // The send fails: both stay unsent, with the error and the attempt.
    await recordAttempt(t.wh, r.to_send.map((e) => e.event_id), 'connection refused', '2026-11-16T08:00:01Z');
    let events = await subscriptionEvents(t.wh, id);
    expect(events.map((e) => [e.finding_key, e.status, e.attempts, e.last_error])).toEqual([['b', 'failed', 1, 'connection refused'], ['a', 'failed', 1, 'connection refused']]);

    // 2: same findings, new sentences (figures move): still the same episodes, still to send; now it works.
    r = await reconcile(t.wh, id, found(finding('a', 'A, new figures'), finding('b')), link, '2026-11-16T09:00:00Z');
    expect(r.opened).toEqual([]);
    expect(r.to_send.map((e) => e.finding_key)).toEqual(['a', 'b']);
    await recordAttempt(t.wh, r.to_send.map((e) => e.event_id), null, '2026-11-16T09:00:01Z');
    events = await subscriptionEvents(t.wh, id);
    expect(events.map((e) => [e.finding_key, e.status, e.attempts, e.last_error, e.sent_at])).toEqual([
      ['b', 'sent', 2, null, '2026-11-16T09:00:01.000Z'],
      ['a', 'sent', 2, null, '2026-11-16T09:00:01.000Z'],
    ]);
    expect(events[1].sentence).toBe('finding a'); // as first seen

    // 3: still there: nothing to send (not repeated). A marked sent again is a no-op.
    r = await reconcile(t.wh, id, found(finding('a'), finding('b')), link, '2026-11-16T10:00:00Z');
    expect(r.to_send).toEqual([]);
    await recordAttempt(t.wh, events.map((e) => e.event_id), 'late failure', '2026-11-16T10:00:01Z');
    expect((await subscriptionEvents(t.wh, id)).map((e) => [e.status, e.last_error])).toEqual([['sent', null], ['sent', null]]);

    // 4: A clears.
    r = await reconcile(t.wh, id, found(finding('b')), link, '2026-11-16T11:00:00Z');
    expect(r.cleared.map((e) => e.finding_key)).toEqual(['a']);
    expect(r.to_send).toEqual([]);

    // 5: A comes back: a new episode, sent again (rearmed); B's episode goes on.
    r = await reconcile(t.wh, id, found(finding('a'), finding('b')), link, '2026-11-16T12:00:00Z');
    expect(r.opened.map((e) => e.finding_key)).toEqual(['a']);
    expect(r.to_send.map((e) => e.finding_key)).toEqual(['a']);
    await recordAttempt(t.wh, r.to_send.map((e) => e.event_id), null, '2026-11-16T12:00:01Z');
    events = await subscriptionEvents(t.wh, id);
    expect(events.map((e) => [e.finding_key, e.status, e.first_seen_at, e.cleared_at])).toEqual([
      ['a', 'sent', '2026-11-16T12:00:00.000Z', null],
      ['b', 'sent', '2026-11-16T08:00:00.000Z', null],
      ['a', 'cleared', '2026-11-16T08:00:00.000Z', '2026-11-16T11:00:00.000Z'],
    ]);
    expect(events.find((e) => e.finding_key === 'b')!.last_seen_at).toBe('2026-11-16T12:00:00.000Z');

    // 6: a finding that clears before any send worked is recorded as such, never as sent.
    r = await reconcile(t.wh, id, found(finding('a'), finding('b'), finding('c')), link, '2026-11-16T13:00:00Z');
    await recordAttempt(t.wh, r.to_send.map((e) => e.event_id), 'HTTP 500', '2026-11-16T13:00:01Z');
    await reconcile(t.wh, id, found(finding('a'), finding('b')), link, '2026-11-16T14:00:00Z');
    const c = (await subscriptionEvents(t.wh, id)).find((e) => e.finding_key === 'c')!;
    expect([c.status, c.sent_at, c.last_error]).toEqual(['cleared unsent', null, 'HTTP 500']);

    // Deleting ends the subscription; its history stays.
    expect(await deleteSubscription(t.wh, id)).toBe(true);
    expect(await deleteSubscription(t.wh, id)).toBe(false);
    expect(await listSubscriptions(t.wh, null)).toEqual([]);
    expect((await subscriptionEvents(t.wh, id)).length).toBe(4);
  });
});
