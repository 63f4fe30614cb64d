import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeEquity, EQUITY_COLUMNS, EQUITY_SORTS, equityRows } from '../../../warehouse/analytics/equity.ts';
import { DEFAULT_MIN_DENOMINATOR } from '../../../warehouse/analytics/format.ts';
import { ErrorResponse, Format } from '../../schemas/common.ts';
import { filterOf, WindowQuery } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';
import { sendCsvRows } from '../../stream-rows.ts';

const Query = Type.Object(
  {
    ...WindowQuery,
    min_cases: Type.Integer({ minimum: 1, maximum: 100000, default: 20, description: 'Areas with fewer cases opened in the window are left out (and counted)' }),
    sort: Type.Union(EQUITY_SORTS.map((s) => Type.Literal(s)), { default: 'median_hours_to_close', description: 'Areas worst first by this figure (the longest median, the lowest rate); areas without it last' }),
    format: Format,
  },
  { additionalProperties: false },
);

export interface EquityRouteOptions {
  /** The configuration's `display.min_denominator`. */
  minDenominator?: number;
}

const equity: FastifyPluginAsync<EquityRouteOptions> = async (fastify, opts) => {
  const minDenominator = opts.minDenominator ?? DEFAULT_MIN_DENOMINATOR;
  fastify.get<{ Querystring: Static<typeof Query> }>(
    '/api/equity',
    {
      schema: {
        summary: 'The same service area by area within one area kind: time to close, on-time rate, satisfaction with 95% intervals, worst first; spread, and whether it is beyond chance',
        description:
          "Each area's figures are the KPIs' own (GET /api/kpis?by=area with the same parameters gives the same numbers): the Kaplan–Meier median time to close with its 95% interval, " +
          'the on-time rate and the CSAT top-2 share with Wilson 95% intervals, and which of them rest on fewer than display.min_denominator cases. Per service or service group with the `service` / `service_group` filters. ' +
          '`period` states the window, zone and as-of time. format=csv: one row per area.',
        tags: ['analytics'],
        querystring: Query,
        response: { 400: ErrorResponse },
      },
      config: { access: 'staff' },
    },
    async (request, reply) => {
      const q = request.query;
      const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
      const o = { window, filter: filterOf(q), area_kind: q.area_kind, minCases: q.min_cases, scope: scopeOf(request), sort: q.sort, minDenominator };
      const r = await memoByData(fastify.warehouse, memoKey('equity', o), () => computeEquity(fastify.warehouse, o));
      if (q.format === 'csv') return sendCsvRows(request, reply, `equity-${r.area_kind}-${r.from}-${r.to}.csv`, equityRows(r), EQUITY_COLUMNS);
      return r;
    },
  );
};

export default equity;
