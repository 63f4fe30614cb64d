// GET /api/map/areas and GET /api/map/hotspots (staff): the route reads the request; the layers
// come from warehouse/analytics/map.ts, which reuses computeKpis and computeHotspots.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeAreaLayer, computeHotspotLayer } from '../../../warehouse/analytics/map.ts';
import { DEFAULT_MIN_DENOMINATOR } from '../../../warehouse/analytics/format.ts';
import { filterOf } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows, sendGeoJson, sendJsonRows } from '../../stream-rows.ts';
import { areasLayerSchema, hotspotsLayerSchema, type AreasLayerQueryString, type HotspotsLayerQueryString } from './schema.ts';

export interface MapRouteOptions {
  /** The configuration's `display.min_denominator`. */
  minDenominator?: number;
}

export const AREA_COLUMNS = ['area_id', 'name', 'kind', 'value', 'numerator', 'denominator', 'ci_lower', 'ci_upper', 'opened', 'population', 'per_1000', 'too_few', 'class'] as const;
export const CELL_COLUMNS = ['h3', 'count', 'z', 'p', 'bin', 'confidence', 'cluster', 'area_id', 'area', 'centre_lng', 'centre_lat'] as const;

function send(request: FastifyRequest, reply: FastifyReply, format: string, layer: { features: { properties: object }[]; properties: object }, filename: string, columns: readonly string[], flat: (p: never) => Record<string, unknown> = (p) => p) {
  if (format === 'geojson') {
    const { features, ...envelope } = layer;
    return sendGeoJson(request, reply, envelope, features);
  }
  const rows = layer.features.map((f) => flat(f.properties as never));
  if (format === 'csv') return sendCsvRows(request, reply, filename, rows, columns);
  return sendJsonRows(request, reply, layer.properties as Record<string, unknown>, rows);
}

const map: FastifyPluginAsync<MapRouteOptions> = async (fastify, opts) => {
  const minDenominator = opts.minDenominator ?? DEFAULT_MIN_DENOMINATOR;

  fastify.get<{ Querystring: AreasLayerQueryString }>('/api/map/areas', { schema: areasLayerSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const layer = await computeAreaLayer(fastify.warehouse, { measure: q.measure, window, filter: filterOf(q), area_kind: q.area_kind, scope: scopeOf(request), minDenominator });
    return send(request, reply, q.format, layer, `map-areas-${layer.properties.area_kind}-${q.measure}-${window.from}-${window.to}.csv`, AREA_COLUMNS);
  });

  fastify.get<{ Querystring: HotspotsLayerQueryString }>('/api/map/hotspots', { schema: hotspotsLayerSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const layer = await computeHotspotLayer(fastify.warehouse, { resolution: q.resolution, k: q.k, fdr: q.fdr, window, filter: filterOf(q), area_kind: q.area_kind, scope: scopeOf(request), cells: q.cells });
    const flat = (p: { centre: [number, number] } & Record<string, unknown>) => {
      const { centre, ...rest } = p;
      return { ...rest, centre_lng: centre[0], centre_lat: centre[1] };
    };
    return send(request, reply, q.format, layer, `map-hotspots-r${q.resolution}-k${q.k}-${window.from}-${window.to}.csv`, CELL_COLUMNS, flat as never);
  });
};

export default map;
