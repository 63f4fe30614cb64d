// The API app, ready for app.inject(), on a test's warehouse (no dashboard files needed).
import Fastify, { type FastifyInstance } from 'fastify';
import app, { FASTIFY_OPTIONS, type AppOptions } from '../api/app.ts';
import type { Warehouse } from '../warehouse/db.ts';

export async function testApp(
  warehouse: Warehouse,
  config: AppOptions['config'] = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' },
): Promise<FastifyInstance> {
  const fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
  await fastify.register(app, { warehouse, config, dashboardDir: '/nonexistent' });
  await fastify.ready();
  return fastify;
}
