// The process: open (and migrate) the warehouse, seed the demo city when it is empty, serve the
// API + dashboard, run the report scheduler, and shut all of it down cleanly on a signal. When it
// cannot listen it closes everything it opened and fails with one line naming the host and port.
import Fastify, { type FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Warehouse } from '../warehouse/db.ts';
import { CivicError } from '../warehouse/errors.ts';
import { seedDemoCity } from '../ingest/demo-city.ts';
import type { ReportScheduler } from '../reports/schedule.ts';
import { alertSender, startAlertEvaluator, type AlertEvaluator } from '../reports/alerts.ts';
import type { SmtpSettings } from '../reports/deliver-email.ts';
import app, { FASTIFY_OPTIONS } from './app.ts';
import { startInbox, type Inbox } from './inbox.ts';
import type { Config } from './config.ts';
import { newServerKey, removeServerCredential, writeServerCredential } from './tokens.ts';
import { warehouseCounts } from '../warehouse/analytics/window.ts';
import { ensureSettledMasks } from '../warehouse/analytics/settled-masks.ts';
import { hashToken } from '../warehouse/access/tokens.ts';

export interface RunningServer {
  fastify: FastifyInstance;
  url: string;
  /** The report schedule (reports/schedule.ts): `planned()` lists each report's next runs. */
  scheduler: ReportScheduler;
  inbox: Inbox | null;
  /** The alert evaluator (null when alerts.enabled is false). */
  alerts: AlertEvaluator | null;
  /** The local admin credential file (see api/tokens.ts), null for an in-memory warehouse. */
  credentialFile: string | null;
  close(): Promise<void>;
}

/** The server could not bind its address; the message says what to change. */
export class ListenError extends CivicError {
  constructor(message: string, cause: unknown) {
    super(message, { status: 503, exitCode: 1, cause });
  }
}

const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

export function listenErrorMessage(err: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `Cannot listen on ${hostPort(host, port)}`;
  const setPort = 'set PORT (or "port" in civic.config.json)';
  const setHost = 'set CIVIC_HOST (or "host" in civic.config.json)';
  switch (err.code) {
    case 'EADDRINUSE':
      return `${where}: the port is already in use (another Civic Pulse server, or another program). Stop it, or choose a free port: ${setPort}.`;
    case 'EACCES':
      return `${where}: permission denied (ports below 1024 need extra privileges). Choose a port from 1024 up: ${setPort}.`;
    case 'EADDRNOTAVAIL':
      return `${where}: ${host} is not an address of this machine. Use one of its addresses (127.0.0.1 for this machine only, 0.0.0.0 for every interface): ${setHost}.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: the host name ${host} does not resolve. ${setHost[0].toUpperCase()}${setHost.slice(1)} to an address of this machine.`;
    default:
      return `${where}: ${err.message}. Check the address: ${setHost}, ${setPort}.`;
  }
}

/**
 * Fails at once when the address plainly cannot be bound, before the slow part of a start (opening
 * the warehouse, seeding the demo city). `civic serve` calls it; startServer copes without it.
 */
export async function checkCanListen(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ port, host }, () => probe.close(() => resolve()));
  }).catch((err: NodeJS.ErrnoException) => {
    throw new ListenError(listenErrorMessage(err, host, port), err);
  });
}

/** A URL a local client can reach the server at: a wildcard address means loopback will do. */
function localUrl(fastify: FastifyInstance): string {
  const a = fastify.server.address() as AddressInfo;
  const host = a.address === '0.0.0.0' ? '127.0.0.1' : a.address === '::' ? '::1' : a.address;
  return `http://${hostPort(host, a.port)}`;
}

export async function startServer(config: Config, opts: { logger?: boolean; dashboardDir?: string } = {}): Promise<RunningServer> {
  const fastify = Fastify({ logger: opts.logger ?? true, ...FASTIFY_OPTIONS });
  const wh = await Warehouse.open(config.database, { memoryLimit: config.memory_limit ?? undefined });
  try {
    if ((await warehouseCounts(wh)).events === 0 && config.seed_demo_when_empty) {
      fastify.log.info('warehouse is empty: seeding the demo city (about 35,000 cases)…');
      const seeded = await seedDemoCity(wh);
      // What the generator planted (hot-spot, rising trend, anomaly week, slow district): the
      // ground truth the detectors are judged against.
      if (config.database !== ':memory:') writeFileSync(join(dirname(config.database), 'demo-manifest.json'), JSON.stringify(seeded.manifest, null, 2) + '\n');
      fastify.log.info({ cases: seeded.cases.loaded, interactions: seeded.interactions, surveys: seeded.surveys }, 'demo city loaded');
    }
    // Stored masks computed by an earlier version are recomputed once (KPI tables evaluate every case until then).
    const started = Date.now();
    if (await ensureSettledMasks(wh)) fastify.log.info({ ms: Date.now() - started }, 'settled cases\' stored masks recomputed');
  } catch (err) {
    wh.close();
    throw err;
  }

  // The local admin credential: only its hash stays in memory; the key goes to a 0600 file
  // beside the database once the server listens (see api/tokens.ts for why that is safe).
  const key = config.database === ':memory:' ? null : newServerKey();
  if (key) fastify.decorate('serverCredentialHash', hashToken(key));

  let scheduler: ReportScheduler | null = null;
  let inbox: Inbox | null = null;
  let alerts: AlertEvaluator | null = null;
  let credentialFile: string | null = null;
  try {
    await fastify.register(app, { warehouse: wh, config, dashboardDir: opts.dashboardDir });
    // Registered after the app, so these run before the warehouse closes.
    fastify.addHook('preClose', async () => {
      if (key) removeServerCredential(config.database, key);
      await inbox?.stop();
      await scheduler?.stop();
      await alerts?.stop();
    });
    try {
      await fastify.listen({ port: config.port, host: config.host });
    } catch (err) {
      // A system error from bind or the host name lookup (EADDRINUSE, EACCES, ENOTFOUND …).
      if ((err as NodeJS.ErrnoException).syscall) throw new ListenError(listenErrorMessage(err as NodeJS.ErrnoException, config.host, config.port), err);
      throw err;
    }
  } catch (err) {
    // Nothing may keep running: close the app, and with it the warehouse (closing twice is harmless,
    // and the app may have failed before its warehouse plugin could close it).
    await fastify.close().catch(() => undefined);
    wh.close();
    throw err;
  }

  // Only once the server listens: a server that cannot serve must not load inbox files or send reports.
  const url = localUrl(fastify);
  try {
    const context = async () => {
      const j = await fastify.jurisdiction();
      return { jurisdiction: j.name, timezone: j.timezone };
    };
    // Runs left unfinished by the last stop are recorded as failed, missed slots caught up once, then the schedules start.
    await fastify.reports.startSchedule();
    scheduler = fastify.reports.scheduler;
    if (config.alerts.enabled) {
      // Links go to the dashboard where readers reach it (reports.public_url), else to this server.
      const reportsConfig = config.reports as { public_url?: string | null; smtp?: SmtpSettings | null };
      const baseUrl = reportsConfig.public_url ?? `http://localhost:${(fastify.server.address() as AddressInfo).port}`;
      // The API's pool of readers: the evaluator shares the dashboard's memo of findings and overviews.
      alerts = startAlertEvaluator(fastify.warehouse, {
        context: async () => ({ ...(await context()), baseUrl, targets: config.targets, minDenominator: config.display.min_denominator, anomalyDays: config.alerts.anomaly_days }),
        sender: alertSender(reportsConfig.smtp ?? null),
        pollSeconds: config.alerts.poll_seconds,
        intervalMinutes: config.alerts.interval_minutes,
        log: fastify.log,
      });
    }
    inbox = config.ingest.inbox_dir ? startInbox(config.ingest.inbox_dir, fastify.ingest, fastify.log, config.ingest.inbox_poll_seconds) : null;
    if (key) {
      credentialFile = writeServerCredential({ url, pid: process.pid, key, database: config.database, started_at: new Date().toISOString() });
      fastify.log.info({ file: credentialFile }, 'local admin credential written (civic token / civic rejects use it)');
    }
  } catch (err) {
    await fastify.close();
    throw err;
  }
  for (const t of scheduler.planned()) fastify.log.info({ report: t.report, cron: t.cron, timezone: t.timezone, next: t.next }, 'report scheduled');
  if (inbox) fastify.log.info({ inbox: config.ingest.inbox_dir }, 'watching the inbox');
  return { fastify, url, scheduler, inbox, alerts, credentialFile, close: () => fastify.close() };
}
