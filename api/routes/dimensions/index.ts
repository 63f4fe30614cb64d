import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { listDimensions } from '../../../warehouse/analytics/dimensions.ts';
import { dataAsOf } from '../../../warehouse/analytics/window.ts';
import { scopeOf } from '../../plugins/auth.ts';

const Names = Type.Array(Type.String());
export const DimensionsResponse = Type.Object({
  services: Type.Array(Type.Object({ code: Type.Union([Type.String(), Type.Null()]), name: Type.String(), service_group: Type.Union([Type.String(), Type.Null()]), agency: Type.Union([Type.String(), Type.Null()]) })),
  service_groups: Names,
  agencies: Names,
  channels: Names,
  area_kinds: Type.Array(Type.Object({ kind: Type.String(), method: Type.String(), areas: Type.Integer(), default: Type.Boolean() })),
  areas: Type.Array(Type.Object({ kind: Type.String(), id: Type.String(), name: Type.String() })),
  no_area_label: Type.String(),
  first_request: Type.Union([Type.String(), Type.Null()]),
  last_request: Type.Union([Type.String(), Type.Null()]),
  data_as_of: Type.Union([Type.String(), Type.Null()]),
});

const dimensions: FastifyPluginAsync = async (fastify) => {
  fastify.get(
    '/api/dimensions',
    {
      schema: {
        summary: 'What the data can be filtered and grouped by: services, service groups, agencies, channels, area kinds and areas, and the first and last request',
        tags: ['analytics'],
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: DimensionsResponse },
      },
      // Staff: it names every agency and service; a caller limited to agencies sees theirs only.
      config: { access: 'staff' },
    },
    async (request) => ({ ...(await listDimensions(fastify.warehouse, scopeOf(request))), data_as_of: await dataAsOf(fastify.warehouse) }),
  );
};

export default dimensions;
