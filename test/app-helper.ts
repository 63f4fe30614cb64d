// The API app, ready for app.inject(), on a test's warehouse (no dashboard files needed), and
// callers with credentials: staff routes need a token (or a session) since issue 9.
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import type { Response as InjectResponse } from 'light-my-request';
import app, { FASTIFY_OPTIONS, type AppOptions } from '../api/app.ts';
import type { Warehouse } from '../warehouse/db.ts';
import { createToken, type Role } from '../warehouse/access/tokens.ts';

export async function testApp(
  warehouse: Warehouse,
  config: AppOptions['config'] = { timezone: 'America/New_York', jurisdiction: 'Riverton (demo city)' },
): Promise<FastifyInstance> {
  const fastify = Fastify({ logger: false, ...FASTIFY_OPTIONS });
  await fastify.register(app, { warehouse, config, dashboardDir: '/nonexistent' });
  await fastify.ready();
  return fastify;
}

/** An `Authorization` header with a new token of `role` (every agency unless `agencies` says). */
export async function bearer(warehouse: Warehouse, role: Role = 'admin', agencies?: string[]): Promise<{ authorization: string }> {
  const { token } = await createToken(warehouse, { name: `test ${role}${agencies ? ` (${agencies.join(', ')})` : ''}`, role, agencies });
  return { authorization: `Bearer ${token}` };
}

export type Inject = (request: string | InjectOptions) => Promise<InjectResponse>;

/** `fastify.inject` as a caller with a new token of `role`: every request carries it (unless it sets its own authorization). */
export async function injectAs(fastify: FastifyInstance, warehouse: Warehouse, role: Role = 'admin', agencies?: string[]): Promise<Inject> {
  const headers = await bearer(warehouse, role, agencies);
  return (request) => {
    const r: InjectOptions = typeof request === 'string' ? { url: request } : request;
    return fastify.inject({ ...r, headers: { ...headers, ...r.headers } });
  };
}
