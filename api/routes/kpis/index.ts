import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { computeKpis, resolveWindow, WindowError } from '../../../warehouse/analytics/kpis.ts';
import { isDimension, type Dimension } from '../../../warehouse/analytics/kpis-sql.ts';
import { toCsv } from '../../../reports/render-csv.ts';
import { kpiRouteSchema, type KpiQuery } from './schema.ts';

const KPI_COLUMNS = ['opened', 'closed', 'cancelled', 'median_hours_to_close', 'median_hours_ci_lower', 'median_hours_ci_upper',
  'p90_hours_to_close', 'on_time_rate', 'on_time', 'on_time_denominator', 'pending', 'excluded_data_errors'];

const kpis: FastifyPluginAsync<{ timezone: string }> = async (fastify, opts) => {
  fastify.get<{ Querystring: Static<typeof KpiQuery> }>('/api/kpis', { schema: kpiRouteSchema }, async (request, reply) => {
    const q = request.query;
    const by = [...new Set(q.by.split(','))].filter(isDimension) as Dimension[];
    let window;
    try {
      window = await resolveWindow(fastify.warehouse, q, opts.timezone);
    } catch (err) {
      if (err instanceof WindowError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/${err.message}` });
      throw err;
    }
    const result = await computeKpis(fastify.warehouse, by, window);
    if (q.format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="kpis-${window.from}-${window.to}.csv"`)
        .send(toCsv(result.rows as unknown as Record<string, unknown>[], [...by, ...KPI_COLUMNS]));
    }
    return result;
  });
};

export default kpis;
