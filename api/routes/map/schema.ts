// The planners' map layers: GET /api/map/areas (a choropleth of any KPI) and GET /api/map/hotspots
// (the Gi* cells). GeoJSON by default; `json` is the same figures as a table with the layer's
// properties beside it; `csv` the table alone.
import Type, { type Static } from 'typebox';
import { CsvBody, ErrorResponse } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';
import { MAP_MEASURES } from '../../../warehouse/analytics/map.ts';

export const LayerFormat = Type.Union([Type.Literal('geojson'), Type.Literal('json'), Type.Literal('csv')], {
  default: 'geojson', description: 'geojson (default: a FeatureCollection, application/geo+json), json (the features\' properties as rows, no geometry) or csv (the same rows)',
});

export const AreasLayerQuery = Type.Object(
  {
    ...WindowQuery,
    measure: Type.String({ minLength: 1, maxLength: 64, default: 'opened', description: `A measure of the registry (GET /api/measures): ${MAP_MEASURES.join(', ')}` }),
    format: LayerFormat,
  },
  { additionalProperties: false },
);
export type AreasLayerQueryString = Static<typeof AreasLayerQuery>;

export const HotspotsLayerQuery = Type.Object(
  {
    ...WindowQuery,
    weeks: Type.Integer({ minimum: 1, maximum: 520, default: 52, description: 'Length of the window when `from` is not given (52, as GET /api/hotspots)' }),
    resolution: Type.Integer({ minimum: 5, maximum: 9, default: 8, description: 'H3 resolution' }),
    k: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'Ring size of the neighbourhood (binary weights, self included)' }),
    fdr: Type.Boolean({ default: true, description: 'Benjamini–Hochberg false-discovery control on the confidence bins' }),
    cells: Type.Union([Type.Literal('all'), Type.Literal('significant')], { default: 'all', description: 'all cells of the study area (default), or only hot and cold ones' }),
    format: LayerFormat,
  },
  { additionalProperties: false },
);
export type HotspotsLayerQueryString = Static<typeof HotspotsLayerQuery>;

const layerResponse = (what: string) => ({
  200: {
    description: what,
    content: {
      'application/geo+json': { schema: Type.Object({ type: Type.Literal('FeatureCollection'), features: Type.Array(Type.Any()), properties: Type.Any() }) },
      'application/json': { schema: Type.Object({ rows: Type.Array(Type.Any()) }, { additionalProperties: true }) },
      'text/csv': { schema: CsvBody },
    },
  },
  400: ErrorResponse,
});

export const areasLayerSchema = {
  summary: 'The loaded area polygons of one kind as a choropleth of one measure, with natural-breaks classes (GeoJSON)',
  description:
    "Each area's figure is the KPI's own (GET /api/kpis?by=area with the same parameters gives the same numbers), with its numerator and denominator, " +
    'its value per 1,000 residents for counts where the area file gave a population, and its class (0…k−1, simple-statistics ckmeans, k = min(5, distinct values)). ' +
    'Areas below the minimum denominator (display.min_denominator) have no value and no class and are listed in too_few_areas. The layer\'s `properties` state the measure, window, as-of, zone, area kind, filters and breaks.',
  tags: ['map'],
  querystring: AreasLayerQuery,
  response: layerResponse('The layer'),
};

export const hotspotsLayerSchema = {
  summary: 'The H3 cells of the hot-spot analysis (Gi*, FDR-corrected confidence bins) as GeoJSON polygons, each named by the area its centre lies in',
  description:
    'The same computation as GET /api/hotspots (same parameters, same answer), with each cell\'s confidence in words, its centre and the area (of area_kind) whose polygon contains the centre. ' +
    'Rings are closed and in [lng, lat] order. The layer\'s `properties` state resolution, k, fdr, the significance levels, window, as-of, zone and area kind.',
  tags: ['map'],
  querystring: HotspotsLayerQuery,
  response: layerResponse('The layer'),
};
