// /api/alerts on the demo city: managers and admins subscribe, list, read what was sent and
// delete; planners, public tokens and anonymous callers are refused; a scope is checked against
// the data and the caller's agencies; another manager's subscription reads as none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { demoWarehouse } from '../demo-warehouse.ts';
import { injectAs, testApp, type Inject } from '../app-helper.ts';
import type { TempWarehouse } from '../helpers.ts';
import { reconcile } from '../../warehouse/analytics/alerts.ts';

describe('/api/alerts', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let streets: Inject;
  let sanitation: Inject;
  let admin: Inject;
  beforeAll(async () => {
    t = await demoWarehouse();
    fastify = await testApp(t.wh);
    streets = await injectAs(fastify, t.wh, 'manager', ['Streets']);
    sanitation = await injectAs(fastify, t.wh, 'manager', ['Sanitation']);
    admin = await injectAs(fastify, t.wh, 'admin');
  });
  afterAll(async () => {
    await fastify.close();
    t.cleanup();
  });

  const post = (who: Inject, payload: object) => who({ method: 'POST', url: '/api/alerts', payload });

  it('refuses anonymous callers (401), planners and public tokens (403)', async () => {
    const body = { service: 'POTHOLE', channel: { email: 'm@city.example' } };
    expect((await fastify.inject({ method: 'POST', url: '/api/alerts', payload: body })).statusCode).toBe(401);
    expect((await fastify.inject({ url: '/api/alerts' })).statusCode).toBe(401);
    for (const role of ['planner', 'public'] as const) {
      const who = await injectAs(fastify, t.wh, role);
      expect((await post(who, body)).statusCode).toBe(403);
      expect((await who('/api/alerts')).statusCode).toBe(403);
    }
  });

  it('subscribes within the scope, lists, shows events, deletes; others see none of it', async () => {
    const res = await post(streets, { service: 'POTHOLE', kinds: ['trend', 'below_target'], channel: { email: 'streets.manager@city.example' } });
    expect(res.statusCode, res.body).toBe(201);
    const sub = res.json();
    expect(sub).toMatchObject({
      owner_role: 'manager', agencies: ['Streets'], filter: { service: 'POTHOLE' }, area_kind: 'district', kinds: ['trend', 'below_target'],
      channel: 'email', target: 'streets.manager@city.example', webhook_secret: null, last_evaluated_at: null, last_error: null,
    });

    // A webhook gets its signing secret once; the list never shows it.
    const hook = await post(streets, { area: 'District 4', kinds: ['anomaly'], channel: { webhook: 'https://hooks.city.example/civic' } });
    expect(hook.statusCode, hook.body).toBe(201);
    expect(hook.json().webhook_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hook.json().filter).toEqual({ area: 'District 4' });

    const list = (await streets('/api/alerts')).json();
    expect(list.subscriptions.map((s: { subscription_id: string }) => s.subscription_id)).toEqual([sub.subscription_id, hook.json().subscription_id]);
    expect(JSON.stringify(list)).not.toContain(hook.json().webhook_secret);
    // Another manager sees none of them, and cannot read or delete them; an admin sees all.
    expect((await sanitation('/api/alerts')).json().subscriptions).toEqual([]);
    expect((await sanitation(`/api/alerts/${sub.subscription_id}/events`)).statusCode).toBe(404);
    expect((await sanitation({ method: 'DELETE', url: `/api/alerts/${sub.subscription_id}` })).statusCode).toBe(404);
    expect((await admin('/api/alerts')).json().subscriptions.length).toBeGreaterThanOrEqual(2);

    // Events: what the evaluator recorded (reconcile is its state step), newest first.
    await reconcile(t.wh, sub.subscription_id, { as_of: '2026-11-15T12:00:00.000Z', findings: [{ key: 'trend|Pothole Repair||rising', kind: 'trend', service: 'Pothole Repair', area: null, sentence: 'Pothole Repair requests have risen.', view: '/service?service=POTHOLE', detail: { p: 0.001 } }] }, (v) => `http://localhost:3000${v}`);
    const ev = await streets(`/api/alerts/${sub.subscription_id}/events`);
    expect(ev.statusCode).toBe(200);
    expect(ev.json().events).toEqual([
      expect.objectContaining({ finding_key: 'trend|Pothole Repair||rising', kind: 'trend', status: 'pending', link: 'http://localhost:3000/service?service=POTHOLE', sent_at: null, cleared_at: null, attempts: 0, detail: { p: 0.001 } }),
    ]);
    const csv = await admin(`/api/alerts/${sub.subscription_id}/events?format=csv`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toBe('event_id,finding_key,kind,status,sentence,link,data_as_of,first_seen_at,last_seen_at,sent_at,attempts,last_attempt_at,last_error,cleared_at');
    expect(csv.body).toContain('trend|Pothole Repair||rising,trend,pending');
    const listCsv = await streets('/api/alerts?format=csv');
    expect(listCsv.body.split('\r\n').filter(Boolean)).toHaveLength(3);

    // Delete: gone from the list, its events gone from the API with it.
    const del = await streets({ method: 'DELETE', url: `/api/alerts/${sub.subscription_id}` });
    expect(del.statusCode).toBe(200);
    expect(del.json().subscription_id).toBe(sub.subscription_id);
    expect((await streets({ method: 'DELETE', url: `/api/alerts/${sub.subscription_id}` })).statusCode).toBe(404);
    expect((await streets('/api/alerts')).json().subscriptions.map((s: { subscription_id: string }) => s.subscription_id)).toEqual([hook.json().subscription_id]);
  });

  it('checks the scope against the data and the caller\'s agencies, and the channel', async () => {
    const bad = async (who: Inject, payload: object, status: number, text: RegExp) => {
      const r = await post(who, payload);
      expect(r.statusCode, r.body).toBe(status);
      expect(r.json().message).toMatch(text);
    };
    await bad(streets, { service: 'TRASH', channel: { email: 'm@city.example' } }, 400, /body\/service "TRASH" is not a service/);
    await bad(streets, { agency: 'Sanitation', channel: { email: 'm@city.example' } }, 400, /body\/agency "Sanitation" is not an agency in your scope/);
    await bad(admin, { service: 'Potholes', channel: { email: 'm@city.example' } }, 400, /closest: "Pothole Repair"/);
    await bad(admin, { area: 'D4', area_kind: 'ward', channel: { email: 'm@city.example' } }, 400, /area_kind "ward"/);
    await bad(admin, { channel: 'm@city.example' }, 400, /channel/);
    await bad(admin, { channel: { email: 'not an address' } }, 400, /email/);
    await bad(admin, { channel: { webhook: 'ftp://files.city.example/x' } }, 400, /webhook/);
    await bad(admin, { kinds: [], channel: { email: 'm@city.example' } }, 400, /kinds/);
    await bad(admin, { kinds: ['hotspot'], channel: { email: 'm@city.example' } }, 400, /kinds/);
    await bad(admin, { channel_: { email: 'm@city.example' } }, 400, /channel/);
    // An admin with every agency may subscribe to any; kinds default to all three.
    const ok = await post(admin, { agency: 'Sanitation', channel: { email: 'admin@city.example' } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ agencies: null, filter: { agency: 'Sanitation' }, kinds: ['anomaly', 'trend', 'below_target'] });
  });
});
