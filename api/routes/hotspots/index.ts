import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow, WindowError } from '../../../warehouse/analytics/kpis.ts';
import { computeHotspots, HotspotError, hotspotsGeoJson } from '../../../warehouse/analytics/hotspot-map.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';
import { shiftDays } from '../trends/index.ts';

const Query = Type.Object(
  {
    ...WindowQuery,
    resolution: Type.Integer({ minimum: 5, maximum: 9, default: 8, description: 'H3 resolution' }),
    k: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'Ring size of the neighbourhood (binary weights, self included)' }),
    fdr: Type.Boolean({ default: true, description: 'Benjamini–Hochberg false-discovery control on the confidence bins' }),
    weeks: Type.Integer({ minimum: 1, maximum: 520, default: 52, description: 'Length of the window when `from` is not given' }),
  },
  { additionalProperties: false },
);

const hotspots: FastifyPluginAsync<{ timezone: string }> = async (fastify, opts) => {
  fastify.get<{ Querystring: Static<typeof Query> }>(
    '/api/hotspots',
    {
      schema: {
        summary: 'Getis–Ord Gi* hot and cold spots of requests on the H3 grid, as GeoJSON (staff only: cells are fine-grained)',
        tags: ['analytics'],
        querystring: Query,
        response: { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
      // Fine-grained cells can point at a household: the public map is a later, disclosure-controlled route.
      preHandler: fastify.requireRole('admin', 'manager', 'planner'),
    },
    async (request, reply) => {
      const q = request.query;
      try {
        const to = await resolveWindow(fastify.warehouse, { to: q.to, as_of: q.as_of }, opts.timezone);
        const w = await resolveWindow(fastify.warehouse, { from: q.from ?? shiftDays(to.to, -(7 * q.weeks - 1)), to: to.to, as_of: to.as_of }, opts.timezone);
        const r = await computeHotspots(fastify.warehouse, { resolution: q.resolution, k: q.k, from: w.from, to: w.to, timezone: opts.timezone, service: q.service, fdr: q.fdr });
        return reply.type('application/geo+json').send({ ...hotspotsGeoJson(r), properties: { ...r.options, study_area: r.study_area } });
      } catch (err) {
        if (err instanceof WindowError || err instanceof HotspotError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/${err instanceof HotspotError ? err.parameter + ' ' : ''}${err.message}` });
        throw err;
      }
    },
  );
};

export default hotspots;
