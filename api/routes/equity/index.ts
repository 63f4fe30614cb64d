import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeEquity } from '../../../warehouse/analytics/equity.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { filterOf, WindowQuery } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';

const Query = Type.Object(
  { ...WindowQuery, min_cases: Type.Integer({ minimum: 1, maximum: 100000, default: 20, description: 'Areas with fewer cases opened in the window are left out (and counted)' }) },
  { additionalProperties: false },
);

const equity: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Querystring: Static<typeof Query> }>(
    '/api/equity',
    {
      schema: {
        summary: 'The same service area by area within one area kind: time to close, on-time rate, satisfaction, spread, and whether it is beyond chance',
        description: "Each area's figures are the KPIs' own (GET /api/kpis?by=area with the same parameters gives the same numbers).",
        tags: ['analytics'],
        querystring: Query,
        response: { 400: ErrorResponse },
      },
      config: { access: 'staff' },
    },
    async (request) => {
      const q = request.query;
      const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
      const o = { window, filter: filterOf(q), area_kind: q.area_kind, minCases: q.min_cases, scope: scopeOf(request) };
      return memoByData(fastify.warehouse, memoKey('equity', o), () => computeEquity(fastify.warehouse, o));
    },
  );
};

export default equity;
