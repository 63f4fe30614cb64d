// GET /api/survival (staff): the Kaplan–Meier curve (warehouse/analytics/survival.ts computes and keeps it).
import type { FastifyPluginAsync } from 'fastify';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeSurvival } from '../../../warehouse/analytics/survival.ts';
import { filterOf } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows } from '../../stream-rows.ts';
import { survivalRouteSchema, type SurvivalQueryString } from './schema.ts';

const survival: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Querystring: SurvivalQueryString }>('/api/survival', { schema: survivalRouteSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const result = await computeSurvival(fastify.warehouse, window, filterOf(q), { duration: q.duration, by: q.by ?? null, area_kind: q.area_kind, scope: scopeOf(request) });
    if (q.format === 'csv') {
      const columns = [...(result.by ? ['group'] : []), 'hours', 'survival', 'lower', 'upper', 'at_risk', 'events', 'censored'];
      return sendCsvRows(request, reply, `survival-${q.duration}-${window.from}-${window.to}.csv`, result.points as unknown as Record<string, unknown>[], columns);
    }
    return result;
  });
};

export default survival;
