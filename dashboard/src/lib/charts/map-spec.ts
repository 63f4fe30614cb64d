// The planners' map without a tile server: the loaded area polygons as a choropleth (classes by
// natural breaks, computed by the API), and optionally the hot and cold H3 cells drawn over them,
// coloured by their Gi* confidence bin. Pure: GeoJSON in, a Vega-Lite spec out.
import type { TopLevelSpec } from 'vega-lite';
import rewind from '@turf/rewind';
import { theme } from './theme.ts';

export interface MapFeature { type: 'Feature'; geometry: unknown; properties: Record<string, unknown> }
export interface MapCollection { type: 'FeatureCollection'; features: MapFeature[] }

/** Sequential blues for up to five classes; grey for "too few cases". */
const CLASS_COLOURS = ['#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
const TOO_FEW = '#d9d9d9';
/** Hot spots in reds, cold in blues, by confidence; the same order as the legend. */
export const BIN_LEGEND = [
  { bin: 3, label: 'hot spot, 99% confidence', colour: '#b2182b' },
  { bin: 2, label: 'hot spot, 95% confidence', colour: '#ef8a62' },
  { bin: 1, label: 'hot spot, 90% confidence', colour: '#fddbc7' },
  { bin: -1, label: 'cold spot, 90% confidence', colour: '#d1e5f0' },
  { bin: -2, label: 'cold spot, 95% confidence', colour: '#67a9cf' },
  { bin: -3, label: 'cold spot, 99% confidence', colour: '#2166ac' },
] as const;

export interface MapOptions {
  /** One label per class, in class order ("40.8% to 40.8%"), and the legend's title. */
  classLabels: string[];
  legendTitle: string;
  cells?: MapCollection | null;
  height?: number;
  width?: number | 'container';
  /** What an area without a figure reads as (default "too few cases"; the public map: "suppressed or too few cases"). */
  noValueLabel?: string;
}

/**
 * GeoJSON (RFC 7946) winds outer rings counter-clockwise; d3-geo, which draws Vega's geoshapes on
 * the sphere, reads that as "everything but this polygon" and fills the whole view. Its convention
 * is clockwise, so every feature is rewound before it is drawn.
 */
const forD3 = <F extends MapFeature>(f: F): F => rewind(f as never, { reverse: true }) as unknown as F;

export function buildMapSpec(areas: MapCollection, o: MapOptions): TopLevelSpec {
  const noValue = o.noValueLabel ?? 'too few cases';
  const label = (p: Record<string, unknown>) => (p.class === null || p.class === undefined ? noValue : o.classLabels[Number(p.class)] ?? '');
  const features = areas.features.map((f) => forD3({ ...f, properties: { ...f.properties, class_label: label(f.properties) } }));
  const domain = [...o.classLabels, ...(features.some((f) => f.properties.class_label === noValue) ? [noValue] : [])];
  const range = [...CLASS_COLOURS.slice(0, o.classLabels.length), ...(domain.length > o.classLabels.length ? [TOO_FEW] : [])];
  const cells = (o.cells?.features ?? []).filter((f) => Number(f.properties.bin) !== 0);
  const bins = BIN_LEGEND.filter((b) => cells.some((c) => Number(c.properties.bin) === b.bin));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: o.width ?? 'container',
    height: o.height ?? 420,
    config: { ...theme, legend: { ...theme.legend, orient: 'bottom', direction: 'vertical', labelLimit: 320 } },
    projection: { type: 'mercator' },
    layer: [
      {
        data: { values: features },
        mark: { type: 'geoshape', stroke: '#333', strokeWidth: 0.8, cursor: 'pointer', tooltip: true },
        encoding: {
          color: { field: 'properties.class_label', type: 'nominal', title: o.legendTitle, scale: { domain, range }, legend: { symbolType: 'square' } },
          tooltip: [
            { field: 'properties.name', type: 'nominal', title: 'Area' },
            { field: 'properties.class_label', type: 'nominal', title: o.legendTitle },
          ],
        },
      },
      ...(cells.length
        ? [{
            data: { values: cells.map((c) => forD3({ ...c, properties: { ...c.properties } })) },
            mark: { type: 'geoshape' as const, stroke: '#555', strokeWidth: 0.3, opacity: 0.85, tooltip: true },
            encoding: {
              color: { field: 'properties.confidence', type: 'nominal' as const, title: 'Hot and cold spots (Gi*, FDR)', scale: { domain: bins.map((b) => b.label), range: bins.map((b) => b.colour) } },
              tooltip: [
                { field: 'properties.confidence', type: 'nominal' as const, title: 'Cell' },
                { field: 'properties.area', type: 'nominal' as const, title: 'Area' },
                { field: 'properties.count', type: 'quantitative' as const, title: 'Requests' },
              ],
            },
          }]
        : []),
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
