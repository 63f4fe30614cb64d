// GET /api/overview (staff): the route only reads the request; warehouse/analytics/overview.ts
// computes (and keeps) the answer, so reports can ask it the same question.
import type { FastifyPluginAsync } from 'fastify';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeOverview, type HeadlineFigure } from '../../../warehouse/analytics/overview.ts';
import { DEFAULT_TARGETS, type TargetsConfig } from '../../../warehouse/analytics/targets.ts';
import { DEFAULT_MIN_DENOMINATOR } from '../../../warehouse/analytics/format.ts';
import { filterOf } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows } from '../../stream-rows.ts';
import { overviewRouteSchema, type OverviewQueryString } from './schema.ts';
import { computeAhead } from '../../compute-ahead.ts';

export interface OverviewRouteOptions {
  /** The configuration's `targets` (default: 85% for every service). */
  targets?: TargetsConfig;
  /** The configuration's `display.min_denominator`. */
  minDenominator?: number;
}

const HEADLINE_COLUMNS = ['name', 'label', 'unit', 'value', 'numerator', 'denominator', 'denominator_name', 'previous', 'previous_denominator', 'change', 'change_unit', 'target', 'status'] as const;
const TARGET_COLUMNS = ['opened', 'on_time', 'on_time_denominator', 'on_time_rate', 'target', 'gap', 'median_hours_to_close', 'backlog', 'backlog_past_due', 'status'];

const overview: FastifyPluginAsync<OverviewRouteOptions> = async (fastify, opts) => {
  const targets = opts.targets ?? DEFAULT_TARGETS;
  const minDenominator = opts.minDenominator ?? DEFAULT_MIN_DENOMINATOR;
  fastify.get<{ Querystring: OverviewQueryString }>('/api/overview', { schema: overviewRouteSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const result = await computeOverview(fastify.warehouse, window, filterOf(q), { area_kind: q.area_kind, scope: scopeOf(request), targets, min_denominator: minDenominator });
    if (q.format === 'csv') {
      if (q.table === 'services') return sendCsvRows(request, reply, `overview-services-${window.from}-${window.to}.csv`, result.worst_services as unknown as Record<string, unknown>[], ['service', 'service_code', ...TARGET_COLUMNS]);
      if (q.table === 'areas') return sendCsvRows(request, reply, `overview-areas-${window.from}-${window.to}.csv`, result.worst_areas as unknown as Record<string, unknown>[], ['area', 'area_id', ...TARGET_COLUMNS]);
      const rows = result.headline.map((h: HeadlineFigure) => Object.fromEntries(HEADLINE_COLUMNS.map((c) => [c, h[c] ?? null])));
      return sendCsvRows(request, reply, `overview-${window.from}-${window.to}.csv`, rows, HEADLINE_COLUMNS);
    }
    return result;
  });

  // The overview is the page a manager opens first, and its seven KPI tables take seconds to
  // compute cold on a large city. Once the server listens, and again after every batch it loads,
  // compute the default view (all services, the default window, no agency scope) in the
  // background so the first visit reads it from memory (the memo is keyed on the data version).
  computeAhead(fastify, 'default overview', async () => {
    const window = await resolveWindow(fastify.warehouse, { weeks: 12 }, (await fastify.jurisdiction()).timezone);
    await computeOverview(fastify.warehouse, window, {}, { area_kind: undefined, scope: { agencies: null }, targets, min_denominator: minDenominator });
  });
};

export default overview;
