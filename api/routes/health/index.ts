import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { dataAsOf } from '../../../warehouse/analytics/kpis.ts';

const Health = Type.Object({
  status: Type.Literal('ok'),
  data_as_of: Type.Union([Type.String(), Type.Null()]),
  cases: Type.Integer(),
  jurisdiction: Type.String(),
  timezone: Type.String(),
});

const health: FastifyPluginAsync<{ jurisdiction: string; timezone: string }> = async (fastify, opts) => {
  fastify.get('/api/health', { schema: { summary: 'Liveness, and how fresh the data is', tags: ['service'], response: { 200: Health } } }, async () => {
    const c = await fastify.warehouse.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM cases');
    return { status: 'ok' as const, data_as_of: await dataAsOf(fastify.warehouse), cases: c?.n ?? 0, jurisdiction: opts.jurisdiction, timezone: opts.timezone };
  });
};

export default health;
