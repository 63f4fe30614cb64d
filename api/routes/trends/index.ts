import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow } from '../../../warehouse/analytics/kpis.ts';
import { computeFindings } from '../../../warehouse/analytics/findings.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';

const Query = Type.Object(
  {
    ...WindowQuery,
    by: Type.String({ pattern: '^(service|area)(,(service|area))?$', default: 'service', description: 'service, area or service,area' }),
    period: Type.Union([Type.Literal('week'), Type.Literal('day')], { default: 'week', description: 'week: Mann–Kendall; day: seasonal Mann–Kendall, period 7' }),
    weeks: Type.Integer({ minimum: 8, maximum: 520, default: 52, description: 'Length of the window when `from` is not given' }),
    alpha: Type.Number({ exclusiveMinimum: 0, maximum: 0.2, default: 0.05, description: 'False discovery rate across all series tested' }),
  },
  { additionalProperties: false },
);

const trends: FastifyPluginAsync<{ timezone: string }> = async (fastify, opts) => {
  fastify.get<{ Querystring: Static<typeof Query> }>(
    '/api/trends',
    { schema: { summary: 'Trend and anomaly findings in request volume, each with a plain sentence', tags: ['analytics'], querystring: Query, response: { 400: ErrorResponse } } },
    async (request) => {
      const q = request.query;
      const w = await resolveWindow(fastify.warehouse, q, opts.timezone);
      const result = await computeFindings(fastify.warehouse, { ...w, by: q.by.split(',') as ('service' | 'area')[], period: q.period, alpha: q.alpha, service: q.service });
      return { from: w.from, to: w.to, as_of: w.as_of, ...result };
    },
  );
};

export default trends;
