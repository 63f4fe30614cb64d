// Alerts end to end on the demo city, through a real SMTP server (smtp-server, read back with
// mailparser) and a real HTTP webhook receiver checking the signature: a finding is sent once with
// its link, not again while it holds, cleared when the data no longer shows it, and sent again
// when it comes back; a failed send is retried; a failed evaluation sends and clears nothing; a
// scope of one agency never carries another's findings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { demoWarehouse } from '../demo-warehouse.ts';
import type { TempWarehouse } from '../helpers.ts';
import { DEMO_SERVICES, type DemoManifest } from '../../ingest/demo-city.ts';
import { createSubscription, deleteSubscription, getSubscription, listSubscriptions, subscriptionEvents, subscriptionsToEvaluate } from '../../warehouse/analytics/alerts.ts';
import { alertSender, evaluateAlerts, RetryBackoff, retryDelayMs, startAlertEvaluator, type AlertContext, type AlertPayload } from '../../reports/alerts.ts';
import { ingestFile } from '../../ingest/load.ts';
import { loadProfile } from '../../ingest/profile.ts';
import { verifyWebhookSignature, SIGNATURE_HEADER } from '../../reports/deliver-webhook.ts';

const TZ = 'America/New_York';
const BASE = 'http://civic.example:3000';
/** Before the planted pothole trend has weeks enough to be significant. */
const EARLY = '2026-06-01T00:00:00Z';

interface Hook { server: Server; url: string; received: AlertPayload[]; fail: boolean; signatures: boolean[] }

async function startReceiver(secretOf: () => string): Promise<Hook> {
  const hook: Hook = { server: null as unknown as Server, url: '', received: [], fail: false, signatures: [] };
  hook.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (hook.fail) {
        res.statusCode = 500;
        return res.end('down for maintenance');
      }
      hook.signatures.push(verifyWebhookSignature(secretOf(), body, req.headers[SIGNATURE_HEADER] as string | undefined));
      hook.received.push(JSON.parse(body.toString('utf8')) as AlertPayload);
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/civic-alerts`;
  return hook;
}

describe('alerts delivered by e-mail and webhook', () => {
  let t: TempWarehouse & { manifest: DemoManifest };
  let smtp: SMTPServer;
  const mail: { to: string[]; mail: ParsedMail }[] = [];
  let hook: Hook;
  let secret = '';
  let ctx: AlertContext;
  const errors: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (_o: object, m: string) => void errors.push(m) };

  beforeAll(async () => {
    t = await demoWarehouse();
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onData(stream, session, cb) {
        simpleParser(stream).then((m) => {
          mail.push({ to: session.envelope.rcptTo.map((r) => r.address), mail: m });
          cb();
        }, cb);
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    hook = await startReceiver(() => secret);
    ctx = { jurisdiction: 'Riverton (demo city)', timezone: TZ, baseUrl: `${BASE}/` };
  });
  afterAll(async () => {
    await new Promise<void>((r) => smtp.close(() => r()));
    await new Promise<void>((r) => hook.server.close(() => r()));
    t.cleanup();
  });

  it('sends once, holds, clears, rearms; retries a failed send; keeps each scope to its agency', async () => {
    const sender = alertSender({ host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, secure: false, from: 'Civic Pulse <alerts@city.example>' }, { retries: 0, timeoutMs: 5000 });
    const streets = { token_id: 'tok-streets', name: 'Streets manager', role: 'manager', agencies: ['Streets'] };
    const { subscription: potholes } = await createSubscription(t.wh, { owner: streets, filter: { service: 'POTHOLE' }, kinds: ['trend'], channel: { email: 'streets@city.example' }, timezone: TZ });
    const sanitation = { token_id: 'tok-sanitation', name: 'Sanitation manager', role: 'manager', agencies: ['Sanitation'] };
    const created = await createSubscription(t.wh, { owner: sanitation, filter: {}, kinds: ['trend', 'below_target'], channel: { webhook: hook.url }, timezone: TZ });
    secret = created.webhook_secret!;
    const potholeKey = 'trend|Pothole Repair||rising';

    // 1. The webhook is down: the e-mail goes, the webhook's findings stay unsent with the error.
    hook.fail = true;
    let s = await evaluateAlerts(t.wh, ctx, sender, { log });
    expect(s.failed).toEqual([]);
    expect(mail).toHaveLength(1);
    const first = mail[0];
    expect(first.to).toEqual(['streets@city.example']);
    expect(first.mail.subject).toMatch(/^Civic Pulse alert: .* for Pothole Repair \(Riverton \(demo city\)\)$/);
    expect(first.mail.text).toContain('Pothole Repair requests have risen by about');
    expect(first.mail.text).toContain(`See it: ${BASE}/service?service=POTHOLE\n`);
    expect(first.mail.html).toContain(`<a href="${BASE}/service?service=POTHOLE">`);
    let events = await subscriptionEvents(t.wh, potholes.subscription_id);
    expect(events.find((e) => e.finding_key === potholeKey)).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
    let hookEvents = await subscriptionEvents(t.wh, created.subscription.subscription_id);
    expect(hookEvents.length).toBeGreaterThan(0);
    expect(s.unsent).toBe(hookEvents.length);
    for (const e of hookEvents) expect([e.status, e.sent_at, e.attempts, e.last_error]).toEqual(['failed', null, 1, expect.stringContaining('500')]);
    expect(errors.some((m) => m.startsWith('alert not sent'))).toBe(true);

    // 2. The webhook is back: the same findings go, once, signed; no e-mail again.
    hook.fail = false;
    s = await evaluateAlerts(t.wh, ctx, sender, { log });
    expect(mail).toHaveLength(1);
    expect(hook.received).toHaveLength(1);
    expect(hook.signatures).toEqual([true]);
    const payload = hook.received[0];
    expect(payload).toMatchObject({ type: 'civic_pulse.alert', subscription_id: created.subscription.subscription_id, scope: { agencies: ['Sanitation'] } });
    expect(payload.findings.map((f) => f.event_id).sort()).toEqual(hookEvents.map((e) => e.event_id).sort());
    // Scope: the Sanitation subscription names only Sanitation's services.
    const sanitationServices = new Set(DEMO_SERVICES.filter((x) => x.agency === 'Sanitation').map((x) => x.name));
    const named = payload.findings.map((f) => f.key.split('|')[1]).filter(Boolean);
    expect(named.length).toBeGreaterThan(0);
    for (const n of named) expect(sanitationServices.has(n), n).toBe(true);
    for (const f of payload.findings) expect(f.link.startsWith(`${BASE}/`)).toBe(true);
    hookEvents = await subscriptionEvents(t.wh, created.subscription.subscription_id);
    for (const e of hookEvents) expect([e.status, e.attempts, e.last_error]).toEqual(['sent', 2, null]);

    // 3. Nothing changed: nothing is sent.
    s = await evaluateAlerts(t.wh, ctx, sender, { log });
    expect([s.messages, s.opened, s.cleared, mail.length, hook.received.length]).toEqual([0, 0, 0, 1, 1]);

    // 4. An earlier as-of: the pothole trend is not (yet) there, so it clears.
    s = await evaluateAlerts(t.wh, ctx, sender, { log, as_of: EARLY });
    expect(s.failed).toEqual([]);
    events = await subscriptionEvents(t.wh, potholes.subscription_id);
    expect(events.find((e) => e.finding_key === potholeKey)).toMatchObject({ status: 'cleared', cleared_at: expect.any(String) });
    const mailsBefore = mail.length;
    expect(mail.slice(1).every((m) => !m.mail.text!.includes('Pothole Repair requests have risen'))).toBe(true);

    // 5. Back to the data's end: the trend is back and is sent again (rearmed), as a new episode.
    s = await evaluateAlerts(t.wh, ctx, sender, { log });
    expect(mail.length).toBe(mailsBefore + 1);
    expect(mail.at(-1)!.mail.text).toContain('Pothole Repair requests have risen by about');
    events = (await subscriptionEvents(t.wh, potholes.subscription_id)).filter((e) => e.finding_key === potholeKey);
    expect(events.map((e) => e.status)).toEqual(['sent', 'cleared']);
    expect(events[0].event_id).toBeGreaterThan(events[1].event_id);

    // 6. An evaluation that fails (a scope the data no longer has) sends and clears nothing, and says why.
    await t.wh.run(`UPDATE alert_subscriptions SET filter = '{"service":"No Such Service"}' WHERE subscription_id = $id`, { id: potholes.subscription_id });
    const mailsNow = mail.length;
    s = await evaluateAlerts(t.wh, ctx, sender, { log, as_of: EARLY });
    expect(s.failed.map((f) => f.subscription_id)).toEqual([potholes.subscription_id]);
    expect(errors.some((m) => m.startsWith('alert evaluation failed'))).toBe(true);
    expect(mail.length).toBe(mailsNow);
    const after = (await subscriptionEvents(t.wh, potholes.subscription_id)).find((e) => e.finding_key === potholeKey)!;
    expect([after.status, after.cleared_at]).toEqual(['sent', null]);
    const [sub] = await listSubscriptions(t.wh, 'tok-streets');
    expect(sub.last_error).toMatch(/No Such Service/);
  }, 120_000); // several year-long analyses, cold, on a shared machine
  it('evaluates when a batch lands (the data version changes), not on every tick; retries a failed evaluation', async () => {
    // Its own subscriptions: the test before leaves one that fails every time (its service is gone),
    // which the evaluator retries, so idle ticks would not be idle.
    for (const s of await subscriptionsToEvaluate(t.wh)) await deleteSubscription(t.wh, s.subscription_id);
    const streets = { token_id: 'tok-streets', name: 'Streets manager', role: 'manager', agencies: ['Streets'] };
    const { subscription: sub } = await createSubscription(t.wh, { owner: streets, filter: { service: 'POTHOLE' }, kinds: ['trend'], channel: { email: 'streets@city.example' }, timezone: TZ });
    // The server's way: the API's pool of readers, apart from the connection the batch is written on.
    const readers = await t.wh.readers();
    let evaluations = 0;
    const evaluator = startAlertEvaluator(readers, {
      context: async () => {
        evaluations++;
        return ctx;
      },
      sender: { email: async () => undefined, webhook: async () => undefined },
      pollSeconds: 0.05,
      intervalMinutes: 60,
    });
    const until = async (ok: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 1200 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await ok()).toBe(true);
    };
    const evaluatedAt = async () => (await getSubscription(t.wh, sub.subscription_id))!.last_evaluated_at;
    // Once the evaluation that began has finished, eight ticks with no new data evaluate nothing.
    const idle = async (n: number, since: string | null) => {
      await until(async () => (await evaluatedAt()) !== since);
      await new Promise((r) => setTimeout(r, 400));
      expect(evaluations).toBe(n);
    };
    const late = (id: string) => t.write(`${id}.csv`, `request_id,service_code,service_name,agency,channel,status,requested_at,closed_at,lat,lon,district\n${id},POTHOLE,Pothole Repair,Streets,web,open,2026-11-16T15:00:00Z,,41.2,-77.3,District 4\n`);
    try {
      await until(() => evaluations === 1); // at start
      await idle(1, null);
      const first = await evaluatedAt();
      await ingestFile(t.wh, late('LATE-1'), loadProfile('demo-city'));
      await until(() => evaluations === 2);
      await idle(2, first);
      // A subscription that now fails: the next batch's evaluation fails, and is tried again.
      await t.wh.run(`UPDATE alert_subscriptions SET filter = '{"service":"No Such Service"}' WHERE subscription_id = $id`, { id: sub.subscription_id });
      await ingestFile(t.wh, late('LATE-2'), loadProfile('demo-city'));
      await until(() => evaluations >= 4);
    } finally {
      await evaluator.stop();
      readers.close();
    }
  }, 120_000);
  it('backs off its retries: one poll, doubling, never over the interval; a new failure starts again at one poll', () => {
    const poll = 60_000;
    const interval = 3_600_000;
    expect([0, 1, 2, 3, 4, 5, 6, 7, 1000].map((n) => retryDelayMs(n, poll, interval))).toEqual([interval, poll, 2 * poll, 4 * poll, 8 * poll, 16 * poll, 32 * poll, interval, interval]);
    const b = new RetryBackoff(poll, interval);
    const waits: number[] = [];
    const after = (left: string) => {
      b.settle(left);
      waits.push(b.waitMs);
    };
    after('');
    after('failed A');
    after('failed A');
    after('failed A');
    after('failed A\nunsent B'); // B's webhook goes down beside A's lost service: retried at once
    after('failed A\nunsent B');
    after('failed A'); // B is back: what is left changed, so one poll again
    after('');
    expect(waits).toEqual([interval, poll, 2 * poll, 4 * poll, poll, 2 * poll, poll, interval]);
  });
  it('backs off an evaluation that throws instead of running it at every poll', async () => {
    const readers = await t.wh.readers();
    let evaluations = 0;
    const errors: string[] = [];
    const evaluator = startAlertEvaluator(readers, {
      context: async () => {
        evaluations++;
        throw new Error('the jurisdiction could not be read');
      },
      sender: { email: async () => undefined, webhook: async () => undefined },
      pollSeconds: 0.02,
      intervalMinutes: 60,
      log: { info: () => undefined, warn: () => undefined, error: (_o: object, m: string) => void errors.push(m) },
    });
    try {
      // 1.3 s of 20 ms polls: 65 evaluations at every poll; backed off (20, 40, 80, … 640 ms) about 7.
      await new Promise((r) => setTimeout(r, 1300));
      expect(evaluations).toBeGreaterThanOrEqual(2);
      expect(evaluations).toBeLessThanOrEqual(9);
      expect(errors.every((m) => m.startsWith('alert evaluation failed'))).toBe(true);
    } finally {
      await evaluator.stop();
      readers.close();
    }
  });
});
