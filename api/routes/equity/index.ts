import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow } from '../../../warehouse/analytics/kpis.ts';
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
    async (request) => {
      const q = request.query;
      const w = await resolveWindow(fastify.warehouse, q, opts.timezone);
      return computeEquity(fastify.warehouse, { ...w, service: q.service, minCases: q.min_cases });
    },
  );
};

export default equity;
