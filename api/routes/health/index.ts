import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { dataAsOf, warehouseCounts } from '../../../warehouse/analytics/window.ts';

const Health = Type.Object({
  status: Type.Literal('ok'),
  data_as_of: Type.Union([Type.String(), Type.Null()]),
  cases: Type.Integer(),
  jurisdiction: Type.String(),
  timezone: Type.String(),
  jurisdiction_source: Type.String({ description: 'config, ingest (recorded by the first real ingest), demo, or default (nothing loaded yet)' }),
  checked_at: Type.String({ description: 'When the warehouse was last read for this answer (at most about a second before it)' }),
});
type HealthBody = Static<typeof Health>;

/**
 * A reading younger than this is served as it is. An older one is still served at once while a
 * fresh one is read behind it: a monitor's check must not queue behind the heaviest analysis for
 * a CPU (on two cores DuckDB's threads take both), and data a second old is fresh enough for
 * "is it up, and how fresh is the data". A failed reading is a 500 on the next check.
 */
const FRESH_MS = 1000;

const health: FastifyPluginAsync = async (fastify) => {
  const read = async (): Promise<HealthBody> => {
    const c = await warehouseCounts(fastify.warehouse);
    const j = await fastify.jurisdiction();
    return { status: 'ok', data_as_of: await dataAsOf(fastify.warehouse), cases: c.cases, jurisdiction: j.name, timezone: j.timezone, jurisdiction_source: j.source, checked_at: new Date().toISOString() };
  };
  let last: { at: number; body: Promise<HealthBody> } | null = null;
  let refreshing: Promise<HealthBody> | null = null;
  const refresh = () => {
    refreshing ??= read().finally(() => (refreshing = null));
    const body = refreshing;
    // The reading replaces the last one once it has one (failed or not): a broken warehouse shows.
    body.then(() => (last = { at: Date.now(), body }), () => (last = { at: Date.now(), body }));
    return body;
  };

  fastify.get('/api/health', { schema: { summary: 'Liveness, and how fresh the data is', tags: ['service'], response: { 200: Health } }, config: { access: 'public' } }, async () => {
    if (!last) return refresh();
    if (Date.now() - last.at >= FRESH_MS) void refresh().catch(() => undefined);
    return last.body;
  });
};

export default health;
