// Whose data this is and in which zone its days are cut, asked by every request: the first real
// ingest records it in the warehouse (so loading LA's export into a fresh install labels it Los
// Angeles and cuts its weeks in Pacific time, not the demo city's), and the config wins when it
// sets a value.
import fp from 'fastify-plugin';
import { resolveJurisdiction, type Jurisdiction } from '../../warehouse/analytics/jurisdiction.ts';
import { memoByData } from '../../warehouse/analytics/memo.ts';

declare module 'fastify' {
  interface FastifyInstance {
    jurisdiction: () => Promise<Jurisdiction>;
  }
}

export interface JurisdictionOptions { jurisdiction?: string | null; timezone?: string | null }

export default fp<JurisdictionOptions>(
  async (fastify, opts) => {
    const configured = { jurisdiction: opts.jurisdiction ?? null, timezone: opts.timezone ?? null };
    // Recorded only by a batch (ingest/load.ts), so it is read once per data version: asked per
    // request, it was a query of its own on every one (under load, tens of milliseconds queued).
    fastify.decorate('jurisdiction', () => memoByData(fastify.warehouse, 'jurisdiction', async () => Object.freeze(await resolveJurisdiction(fastify.warehouse, configured))));
  },
  { name: 'jurisdiction', dependencies: ['warehouse'] },
);
