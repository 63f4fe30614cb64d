import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeFindings } from '../../../warehouse/analytics/findings.ts';
import { parseDimensions } from '../../../warehouse/analytics/dimensions.ts';
import { SERIES_GROUPS, type SeriesGroup } from '../../../warehouse/queries/series-sql.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { filterOf, WindowQuery } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';

const Query = Type.Object(
  {
    ...WindowQuery,
    by: Type.String({ maxLength: 50, default: 'service', description: 'service, area or service,area (empty: all requests as one series)' }),
    period: Type.Union([Type.Literal('week'), Type.Literal('day')], { default: 'week', description: 'week: Mann–Kendall; day: seasonal Mann–Kendall, period 7' }),
    weeks: Type.Integer({ minimum: 8, maximum: 520, default: 52, description: 'Length of the window when `from` is not given' }),
    alpha: Type.Number({ exclusiveMinimum: 0, maximum: 0.2, default: 0.05, description: 'False discovery rate across all series tested' }),
  },
  { additionalProperties: false },
);

const trends: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Querystring: Static<typeof Query> }>(
    '/api/trends',
    {
      schema: {
        summary: 'Trend and anomaly findings in request volume, each with a plain sentence; window, as-of and area kind stated',
        description: 'Each series starts where its data starts (no zero weeks before a service or area had any request) and counts whole weeks only.',
        tags: ['analytics'],
        querystring: Query,
        response: { 400: ErrorResponse },
      },
      config: { access: 'staff' },
    },
    async (request) => {
      const q = request.query;
      const by = parseDimensions(q.by, 'by', SERIES_GROUPS) as SeriesGroup[];
      const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
      const o = { window, by, period: q.period, alpha: q.alpha, filter: filterOf(q), area_kind: q.area_kind, scope: scopeOf(request) };
      return memoByData(fastify.warehouse, memoKey('trends', o), () => computeFindings(fastify.warehouse, o), (r) => r.series_tested);
    },
  );
};

export default trends;
