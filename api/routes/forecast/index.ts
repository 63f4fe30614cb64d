// GET /api/forecast (staff): weekly demand forecasts (warehouse/analytics/forecast.ts computes and keeps them).
import type { FastifyPluginAsync } from 'fastify';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeForecast, FORECAST_CSV_COLUMNS, forecastRows } from '../../../warehouse/analytics/forecast.ts';
import { parseDimensions } from '../../../warehouse/analytics/dimensions.ts';
import { SERIES_GROUPS, type SeriesGroup } from '../../../warehouse/queries/series-sql.ts';
import { filterOf } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows } from '../../stream-rows.ts';
import { forecastRouteSchema, type ForecastQueryString } from './schema.ts';

const forecast: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Querystring: ForecastQueryString }>('/api/forecast', { schema: forecastRouteSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const by = parseDimensions(q.by, 'by', SERIES_GROUPS) as SeriesGroup[];
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const result = await computeForecast(fastify.warehouse, { window, by, horizon: q.horizon, filter: filterOf(q), area_kind: q.area_kind, scope: scopeOf(request) });
    if (q.format === 'csv') {
      return sendCsvRows(request, reply, `forecast-${by.join('-') || 'all'}-${result.from}-${result.to}-h${result.horizon}.csv`, forecastRows(result), FORECAST_CSV_COLUMNS);
    }
    return result;
  });
};

export default forecast;
