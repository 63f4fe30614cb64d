import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeHotspots, hotspotsGeoJson } from '../../../warehouse/analytics/hotspots.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { filterOf, WindowQuery } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';
import { sendGeoJson } from '../../stream-rows.ts';

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

const hotspots: FastifyPluginAsync = async (fastify) => {
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
      config: { access: 'staff' },
    },
    async (request, reply) => {
      const q = request.query;
      const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
      const o = { resolution: q.resolution, k: q.k, window, filter: filterOf(q), area_kind: q.area_kind, fdr: q.fdr, scope: scopeOf(request) };
      const r = await memoByData(fastify.warehouse, memoKey('hotspots', o), () => computeHotspots(fastify.warehouse, o), (h) => h.cells.length);
      const { type, features } = await hotspotsGeoJson(r);
      return sendGeoJson(request, reply, { type, properties: { ...r.parameters, study_area: r.study_area } }, features);
    },
  );
};

export default hotspots;
