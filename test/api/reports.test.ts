// Scheduled reports through the API on the demo city, delivered for real: a local SMTP server
// (smtp-server, read back with mailparser) with a small EHLO SIZE, an HTTP receiver that checks the
// HMAC of every webhook, and a folder. Runs, deliveries, retries, signed links and scope.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import app, { FASTIFY_OPTIONS } from '../../api/app.ts';
import { parseConfig } from '../../api/config.ts';
import { demoWarehouse } from '../demo-warehouse.ts';
import type { TempWarehouse } from '../helpers.ts';
import { injectAs, type Inject } from '../app-helper.ts';
import { startReceiver, startTestSmtp, type TestSmtp } from '../report-servers.ts';

const SECRET = 'a-webhook-secret-for-tests';

describe('reports API: definitions, runs, deliveries, retries', () => {
  let t: TempWarehouse;
  let fastify: FastifyInstance;
  let smtp: TestSmtp;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let admin: Inject;
  let manager: Inject;
  let outDir: string;

  beforeAll(async () => {
    t = await demoWarehouse();
    // 25 kB: the summary's few CSV tables fit (about 11 kB as MIME), a PDF with fonts and vector charts does not.
    smtp = await startTestSmtp({ size: 25_000 });
    rx = await startReceiver(SECRET, (path) => (path === '/down' ? 500 : 200));
    outDir = join(t.dir, 'reports');
    const config = parseConfig({
      timezone: 'America/New_York',
      jurisdiction: 'Riverton (demo city)',
      database: ':memory:',
      reports: {
        out_dir: outDir,
        schedules: [],
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'Civic Pulse <reports@city.example>' },
        public_url: 'http://reports.example',
        webhook_secret: SECRET,
        definitions: [{ id: 'csv-weekly', title: 'Weekly figures (CSV)', formats: ['csv'], views: ['summary'], cron: '0 7 * * 1', recipients: ['csv@city.example'] }],
      },
    });
    fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
    await fastify.register(app, { warehouse: t.wh, config, dashboardDir: '/nonexistent', reportDelivery: { retries: 1, backoffMs: 10 } });
    await fastify.ready();
    admin = await injectAs(fastify, t.wh, 'admin');
    manager = await injectAs(fastify, t.wh, 'manager', ['Public Works']);
  }, 120_000);
  afterAll(async () => {
    await fastify?.close();
    await smtp?.close();
    await rx?.close();
    t?.cleanup();
  });

  const district = () => ({
    id: 'district-weekly',
    title: 'District weekly',
    cron: '0 7 * * 1',
    timezone: 'Europe/London',
    recipients: ['ok@city.example', 'gone@refused.example', `${rx.url}/ok`, `${rx.url}/down`, 'folder'],
    owner: 'owner@city.example',
  });

  let firstRun: string;

  it('an admin creates a definition; it lists with its next three runs at 07:00 in its own zone', async () => {
    const res = await admin({ method: 'POST', url: '/api/reports', payload: district() });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.source).toBe('api');
    expect(body.effective_timezone).toBe('Europe/London');
    expect(body.next_runs).toHaveLength(3);
    for (const n of body.next_runs) {
      expect(new Date(n).toLocaleString('en-GB', { timeZone: 'Europe/London', weekday: 'short', hour: '2-digit', minute: '2-digit' })).toBe('Mon 07:00');
    }
    const list = (await admin('/api/reports')).json().reports.map((r: { id: string; source: string }) => `${r.id}:${r.source}`);
    expect(list).toEqual(expect.arrayContaining(['csv-weekly:config', 'weekly-summary:built-in', 'district-weekly:api']));
    // The same id again, and a configuration id, are refused.
    expect((await admin({ method: 'POST', url: '/api/reports', payload: district() })).statusCode).toBe(409);
    expect((await admin({ method: 'POST', url: '/api/reports', payload: { ...district(), id: 'csv-weekly' } })).statusCode).toBe(409);
    // A bad recipient names the key.
    const bad = await admin({ method: 'POST', url: '/api/reports', payload: { ...district(), id: 'bad-one', recipients: ['not an address'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/body\/recipients\/0.*neither an e-mail address/);
  });

  it('runs on demand: 202 with the run id; a second start while it runs is a 409 naming it', async () => {
    const res = await admin({ method: 'POST', url: '/api/reports/district-weekly/run' });
    expect(res.statusCode, res.body).toBe(202);
    firstRun = res.json().run_id;
    const again = await admin({ method: 'POST', url: '/api/reports/district-weekly/run' });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toContain(firstRun);
    await fastify.reports.runner.idle();
  }, 60_000);

  it('records each recipient: the failures as failures (partial, never success), the owner told', async () => {
    const run = (await admin(`/api/reports/runs/${firstRun}`)).json();
    expect(run.status).toBe('partial');
    expect(run.error).toBe('2 of 5 deliveries failed');
    const names: string[] = run.files.map((f: { name: string }) => f.name);
    expect(names[0]).toMatch(/^district-weekly_.*\.pdf$/);
    expect(names.length).toBeGreaterThan(1);
    for (const n of names.slice(1)) expect(n).toMatch(/^district-weekly_.*\.csv$/);
    expect(run.files[0].bytes).toBeGreaterThan(25_000);
    const by = Object.fromEntries(run.deliveries.map((d: { kind: string; recipient: string }) => [`${d.kind} ${d.recipient.replace(rx.url, '')}`, d]));
    expect(by['email ok@city.example']).toMatchObject({ status: 'sent', attempts: 1, detail: expect.stringMatching(/^sent as download links: the attachments \(.*\) exceed the mail server's limit of 25,000 bytes/) });
    expect(by['email gone@refused.example']).toMatchObject({ status: 'failed', error: expect.stringContaining('550') });
    expect(by['webhook /ok']).toMatchObject({ status: 'sent', attempts: 1 });
    expect(by['webhook /down']).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringContaining('HTTP 500') });
    expect(by["folder folder"]).toMatchObject({ status: "sent" });
    expect(by['owner owner@city.example']).toMatchObject({ status: 'sent', detail: 'failure notice' });
    for (const d of run.deliveries) expect(d.finished_at).not.toBeNull();
    // The folder has whole files and no temp names.
    expect(readdirSync(outDir).filter((f) => f.startsWith('district-weekly_')).sort()).toEqual([...names].sort());
    expect(readdirSync(outDir).some((f) => f.includes('.partial'))).toBe(false);
    const owner = smtp.received.find((m) => m.envelope.includes('owner@city.example'))!;
    expect(owner.mail.subject).toBe('Report partly failed: District weekly');
    expect(owner.mail.text).toContain('gone@refused.example');
    expect(owner.mail.text).toContain(`POST /api/reports/runs/${firstRun}/retry`);
  });

  it('the e-mail too large to attach carries signed links that download the very files; a changed link is refused', async () => {
    const run = (await admin(`/api/reports/runs/${firstRun}`)).json();
    const mail = smtp.received.find((m) => m.envelope.includes('ok@city.example'))!;
    expect(mail.mail.attachments).toHaveLength(0);
    const links = [...(mail.mail.text ?? '').matchAll(/http:\/\/reports\.example(\/api\/reports\/files\/[A-Za-z0-9_.-]+)/g)].map((m) => m[1]);
    expect(links).toHaveLength(run.files.length);
    for (const [i, path] of links.entries()) {
      const res = await fastify.inject(path); // no credential: the link is one
      expect(res.statusCode).toBe(200);
      expect(createHash('sha256').update(res.rawPayload).digest('hex')).toBe(run.files[i].sha256);
    }
    expect(links[0].length).toBeGreaterThan(40);
    const tampered = links[0].slice(0, -3) + (links[0].endsWith('AAA') ? 'BBB' : 'AAA');
    expect((await fastify.inject(tampered)).statusCode).toBe(403);
    // Staff download by run and name, and only names the run recorded.
    const pdf = await admin(`/api/reports/runs/${firstRun}/files/${run.files[0].name}`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await admin(`/api/reports/runs/${firstRun}/files/..%2F..%2Fcivic.duckdb`)).statusCode).toBe(404);
  });

  it('the webhook got a signed JSON with links', async () => {
    const hit = rx.hits.find((h) => h.path === '/ok')!;
    expect(hit.signatureOk).toBe(true);
    const payload = JSON.parse(hit.body);
    expect(payload).toMatchObject({ event: 'report.run', run_id: firstRun, report: { id: 'district-weekly' } });
    expect(payload.files.length).toBeGreaterThan(1);
    for (const f of payload.files) expect(f.url).toMatch(/^http:\/\/reports\.example\/api\/reports\/files\//);
    expect(JSON.stringify(payload)).not.toContain(t.dir); // no server paths
  });

  it('a retry resends only to the recipients that failed', async () => {
    const mailsBefore = smtp.received.filter((m) => m.envelope.includes('ok@city.example')).length;
    const okHitsBefore = rx.hits.filter((h) => h.path === '/ok').length;
    const downHitsBefore = rx.hits.filter((h) => h.path === '/down').length;
    const res = await admin({ method: 'POST', url: `/api/reports/runs/${firstRun}/retry` });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().recipients.map((r: string) => r.replace(rx.url, ''))).toEqual(['gone@refused.example', '/down']);
    await fastify.reports.runner.idle();
    const retry = (await admin(`/api/reports/runs/${res.json().run_id}`)).json();
    expect(retry).toMatchObject({ trigger: 'retry', retry_of: firstRun, status: 'failed' });
    expect(retry.files.map((f: { sha256: string }) => f.sha256)).toEqual((await admin(`/api/reports/runs/${firstRun}`)).json().files.map((f: { sha256: string }) => f.sha256));
    expect(retry.deliveries.filter((d: { kind: string }) => d.kind !== 'owner')).toHaveLength(2);
    expect(smtp.received.filter((m) => m.envelope.includes('ok@city.example')).length).toBe(mailsBefore);
    expect(rx.hits.filter((h) => h.path === '/ok').length).toBe(okHitsBefore);
    expect(rx.hits.filter((h) => h.path === '/down').length).toBe(downHitsBefore + 2);
    expect((await admin(`/api/reports/runs/${firstRun}`)).json().retried_by).toEqual([retry.run_id]);
    const list = (await admin('/api/reports/runs?report=district-weekly')).json();
    expect(list.total).toBe(2);
    expect(list.runs[0]).toMatchObject({ run_id: retry.run_id, deliveries: { sent: 0, failed: 2, sending: 0 } });
  }, 60_000);

  it('a small report goes as an attachment that reads back as the archived file', async () => {
    const res = await admin({ method: 'POST', url: '/api/reports/csv-weekly/run' });
    expect(res.statusCode).toBe(202);
    await fastify.reports.runner.idle();
    const run = (await admin(`/api/reports/runs/${res.json().run_id}`)).json();
    expect(run.status).toBe('succeeded');
    const mail = smtp.received.find((m) => m.envelope.includes('csv@city.example'))!;
    expect(mail.mail.attachments.map((a) => a.filename)).toEqual(run.files.map((f: { name: string }) => f.name));
    for (const [i, f] of run.files.entries()) {
      const archived = readFileSync(join(outDir, 'runs', run.run_id, f.name));
      expect(Buffer.compare(mail.mail.attachments[i].content, archived)).toBe(0);
      expect(createHash('sha256').update(archived).digest('hex')).toBe(f.sha256);
    }
  }, 60_000);

  it('scope: a manager limited to an agency sees and runs none of the every-agency reports', async () => {
    expect((await manager('/api/reports')).json().reports).toEqual([]);
    expect((await manager({ method: 'POST', url: '/api/reports/district-weekly/run' })).statusCode).toBe(404);
    expect((await manager('/api/reports/runs')).json().total).toBe(0);
    expect((await manager(`/api/reports/runs/${firstRun}`)).statusCode).toBe(404);
    expect((await manager({ method: 'POST', url: '/api/reports', payload: { ...district(), id: 'mine' } })).statusCode).toBe(403);
  });

  it('configuration definitions are read-only; deleting an API one keeps its runs', async () => {
    expect((await admin({ method: 'PUT', url: '/api/reports/csv-weekly', payload: { title: 'x' } })).statusCode).toBe(409);
    const put = await admin({ method: 'PUT', url: '/api/reports/district-weekly', payload: { ...district(), id: undefined, cron: '30 6 * * 2' } });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().cron).toBe('30 6 * * 2');
    expect(fastify.reports.scheduler.planned().find((p) => p.report === 'district-weekly')?.cron).toBe('30 6 * * 2');
    expect((await admin({ method: 'DELETE', url: '/api/reports/district-weekly' })).statusCode).toBe(204);
    expect(fastify.reports.scheduler.planned().find((p) => p.report === 'district-weekly')).toBeUndefined();
    expect((await admin('/api/reports/runs?report=district-weekly')).json().total).toBe(2);
    expect(existsSync(join(outDir, 'runs', firstRun))).toBe(true);
  });
});

describe('configuration of reports', () => {
  it('names the key at fault', () => {
    expect(() => parseConfig({ reports: { definitions: [{ id: 'a', title: 'A', cron: '61 * * * *' }] } })).toThrow(/Configuration key "reports.definitions.0.cron": "61 \* \* \* \*" is not a cron expression/);
    expect(() => parseConfig({ reports: { definitions: [{ id: 'a', title: 'A', timezone: 'Mars/Olympus' }] } })).toThrow(/"reports.definitions.0.timezone"/);
    expect(() => parseConfig({ reports: { definitions: [{ id: 'a', title: 'A', recipients: ['x@city.example'] }] } })).toThrow(/"reports.definitions.0.recipients.0": "x@city.example" is an e-mail address, and reports.smtp is not configured/);
    expect(() => parseConfig({ reports: { definitions: [{ id: 'a', title: 'A', recipients: ['https://h.example/x'] }] } })).toThrow(/reports.webhook_secret/);
    expect(() => parseConfig({ reports: { definitions: [{ id: 'a', title: 'A' }, { id: 'a', title: 'B' }] } })).toThrow(/"reports.definitions.1.id": "a" is used by another definition/);
    expect(() => parseConfig({ reports: { definitions: [{ id: 'A b', title: 'A' }] } })).toThrow(/"reports.definitions.0.id"/);
    expect(() => parseConfig({ reports: { smtp: { host: 'mail' } } })).toThrow(/"reports.smtp/);
    const ok = parseConfig({ reports: { smtp: { host: 'mail.city.example', from: 'r@city.example' }, definitions: [{ id: 'a', title: 'A', recipients: ['x@city.example', 'folder'] }] } });
    expect(ok.reports.smtp).toMatchObject({ port: 587, secure: false });
    expect(ok.reports.link_hours).toBe(168);
  });
});
