// The process: open (and migrate) the warehouse, seed the demo city when it is empty, serve the
// API + dashboard, run the report scheduler, and shut all of it down cleanly on a signal.
import Fastify, { type FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Warehouse } from '../warehouse/db.ts';
import { seedDemoCity } from '../ingest/demo-city.ts';
import { startScheduler, type Scheduler } from '../reports/schedule.ts';
import app from './app.ts';
import { startInbox, type Inbox } from './inbox.ts';
import type { Config } from './config.ts';

export interface RunningServer { fastify: FastifyInstance; url: string; scheduler: Scheduler; inbox: Inbox | null; close(): Promise<void> }

export async function startServer(config: Config, opts: { logger?: boolean; dashboardDir?: string } = {}): Promise<RunningServer> {
  const fastify = Fastify({ logger: opts.logger ?? true });
  const wh = await Warehouse.open(config.database, { memoryLimit: config.memory_limit ?? undefined });
  try {
    const count = await wh.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM case_events');
    if (count?.n === 0 && config.seed_demo_when_empty) {
      fastify.log.info('warehouse is empty: seeding the demo city (about 35,000 cases)…');
      const seeded = await seedDemoCity(wh);
      // What the generator planted (hot-spot, rising trend, anomaly week, slow district): the
      // ground truth the detectors are judged against.
      if (config.database !== ':memory:') writeFileSync(join(dirname(config.database), 'demo-manifest.json'), JSON.stringify(seeded.manifest, null, 2) + '\n');
      fastify.log.info({ cases: seeded.cases.loaded, interactions: seeded.interactions, surveys: seeded.surveys }, 'demo city loaded');
    }
  } catch (err) {
    wh.close();
    throw err;
  }
  await fastify.register(app, { warehouse: wh, config, dashboardDir: opts.dashboardDir });
  const scheduler = startScheduler(wh, config.reports.schedules, {
    timezone: config.timezone,
    jurisdiction: config.jurisdiction,
    outDir: config.reports.out_dir,
    log: fastify.log,
  });
  const inbox: Inbox | null = config.ingest.inbox_dir
    ? startInbox(config.ingest.inbox_dir, fastify.ingest, fastify.log, config.ingest.inbox_poll_seconds)
    : null;
  // Registered after the app, so these run before the warehouse closes.
  fastify.addHook('preClose', async () => {
    await inbox?.stop();
    await scheduler.stop();
  });
  const url = await fastify.listen({ port: config.port, host: config.host });
  for (const t of scheduler.tasks) fastify.log.info({ report: t.report, cron: t.cron, next: t.next }, 'report scheduled');
  if (inbox) fastify.log.info({ inbox: config.ingest.inbox_dir }, 'watching the inbox');
  return { fastify, url, scheduler, inbox, close: () => fastify.close() };
}
