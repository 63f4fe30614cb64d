import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { dataAsOf, warehouseCounts } from '../../../warehouse/analytics/window.ts';

const Health = Type.Object({
  status: Type.Literal('ok'),
  data_as_of: Type.Union([Type.String(), Type.Null()]),
  cases: Type.Integer(),
  jurisdiction: Type.String(),
  timezone: Type.String(),
  jurisdiction_source: Type.String({ description: 'config, ingest (recorded by the first real ingest), demo, or default (nothing loaded yet)' }),
});

const health: FastifyPluginAsync = async (fastify) => {
  fastify.get('/api/health', { schema: { summary: 'Liveness, and how fresh the data is', tags: ['service'], response: { 200: Health } }, config: { access: 'public' } }, async () => {
    const c = await warehouseCounts(fastify.warehouse);
    const j = await fastify.jurisdiction();
    return { status: 'ok' as const, data_as_of: await dataAsOf(fastify.warehouse), cases: c.cases, jurisdiction: j.name, timezone: j.timezone, jurisdiction_source: j.source };
  });
};

export default health;
