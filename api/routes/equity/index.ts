import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow, WindowError } from '../../../warehouse/analytics/kpis.ts';
import { computeEquity } from '../../../warehouse/analytics/equity.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';

const Query = Type.Object(
  { ...WindowQuery, min_cases: Type.Integer({ minimum: 1, maximum: 100000, default: 20, description: 'Areas with fewer cases are left out' }) },
  { additionalProperties: false },
);

const equity: FastifyPluginAsync<{ timezone: string }> = async (fastify, opts) => {
  fastify.get<{ Querystring: Static<typeof Query> }>(
    '/api/equity',
    { schema: { summary: 'The same service area by area: time to close, on-time rate, satisfaction, spread, and whether it is beyond chance', tags: ['analytics'], querystring: Query, response: { 400: ErrorResponse } } },
    async (request, reply) => {
      const q = request.query;
      try {
        const w = await resolveWindow(fastify.warehouse, q, opts.timezone);
        return await computeEquity(fastify.warehouse, { ...w, service: q.service, minCases: q.min_cases });
      } catch (err) {
        if (err instanceof WindowError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/${err.message}` });
        throw err;
      }
    },
  );
};

export default equity;
