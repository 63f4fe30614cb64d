// GET /api/repeat-locations (staff): the route reads the request; warehouse/analytics/repeat-locations.ts computes.
import type { FastifyPluginAsync } from 'fastify';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeRepeatLocations, REPEAT_COLUMNS, repeatGeoJson, repeatRows } from '../../../warehouse/analytics/repeat-locations.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';
import { filterOf } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows } from '../../stream-rows.ts';
import { repeatRouteSchema, type RepeatQueryString } from './schema.ts';

const repeatLocations: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Querystring: RepeatQueryString }>('/api/repeat-locations', { schema: repeatRouteSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const o = { window, filter: filterOf(q), area_kind: q.area_kind, scope: scopeOf(request), days: q.days, resolution: q.resolution, limit: q.limit };
    const r = await memoByData(fastify.warehouse, memoKey('repeat-locations', o), () => computeRepeatLocations(fastify.warehouse, o), (x) => x.places.length);
    if (q.format === 'csv') return sendCsvRows(request, reply, `repeat-locations-r${r.resolution}-${r.days}d-${r.from}-${r.to}.csv`, repeatRows(r), REPEAT_COLUMNS);
    if (q.format === 'geojson') {
      request.auditRows = r.places.length;
      return reply.type('application/geo+json; charset=utf-8').send(repeatGeoJson(r));
    }
    return r;
  });
};

export default repeatLocations;
