// Charts of the public pages, drawn on the server as SVG by the dashboard's own spec builders
// (the same ones the PDF reports use), so a page needs no JavaScript to show them. Each chart is
// given to assistive technology as one image with its sentence; the data is the table beside it.
import { simplify } from '@turf/turf';
import { buildLineSpec, type LinePoint } from '../../dashboard/src/lib/charts/line-spec.ts';
import { buildMapSpec, type MapCollection } from '../../dashboard/src/lib/charts/map-spec.ts';
import { specToSvg } from '../../reports/render-pdf.ts';
import type { AreaPolygon } from '../../warehouse/analytics/area-locator.ts';
import { naturalBreaks } from '../../warehouse/stats/natural-breaks.ts';
import { html, raw, type SafeHtml } from './html.ts';

/** An SVG that scales with its box: Vega writes a fixed width and height. */
function responsive(svg: string): string {
  return svg.replace(/^<svg([^>]*?)\swidth="([\d.]+)"\s+height="([\d.]+)"/, (_m, attrs: string, w: string, h: string) =>
    `<svg${attrs.includes('viewBox') ? attrs : `${attrs} viewBox="0 0 ${w} ${h}"`} width="${w}" height="${h}" focusable="false" aria-hidden="true"`);
}

export async function chart(spec: Parameters<typeof specToSvg>[0], sentence: string): Promise<SafeHtml> {
  const svg = responsive(await specToSvg(spec));
  return html`<figure class="chart"><div class="chart-svg" role="img" aria-label="${sentence}">${raw(svg)}</div><figcaption>${sentence}</figcaption></figure>`;
}

export function lineChart(points: LinePoint[], o: { yTitle: string; xTitle: string; sentence: string; share?: boolean }): Promise<SafeHtml> {
  return chart(buildLineSpec(points, { yTitle: o.yTitle, xTitle: o.xTitle, width: 640, height: 220, share: o.share, yFormat: o.share ? '.0%' : ',d' }), o.sentence);
}

export interface MapValue { name: string; value: number | null }

/**
 * A choropleth of published figures by area: classes by natural breaks over the areas with a
 * figure, grey for the rest. Outlines are simplified to about a thousandth of the map's extent
 * (a public map at page width shows no more, and LA's 99 neighbourhood councils shrink from
 * megabytes to a page's worth).
 */
export async function areaMap(polygons: AreaPolygon[], values: MapValue[], o: { legendTitle: string; format: (v: number) => string; sentence: string }): Promise<SafeHtml | null> {
  if (polygons.length === 0) return null;
  const byName = new Map(values.map((v) => [v.name, v.value]));
  const figures = polygons.map((p) => byName.get(p.name) ?? null);
  const present = figures.filter((v): v is number => v !== null);
  const nb = naturalBreaks(present, 5);
  let k = 0;
  const classOf = figures.map((v) => (v === null ? null : nb.classOf[k++]));
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of polygons) {
    const rings = p.geometry.type === 'MultiPolygon' ? (p.geometry.coordinates as number[][][][]).flat() : (p.geometry.coordinates as number[][][]);
    for (const [x, y] of rings.flat()) [w, s, e, n] = [Math.min(w, x), Math.min(s, y), Math.max(e, x), Math.max(n, y)];
  }
  const tolerance = Math.max(e - w, n - s) / 1000;
  const features: MapCollection['features'] = polygons.map((p, i) => {
    const f = { type: 'Feature' as const, geometry: p.geometry, properties: { name: p.name, class: classOf[i] } };
    return simplify(f as never, { tolerance, highQuality: false }) as unknown as MapCollection['features'][number];
  });
  const labels = nb.classes.map((c) => (c.lower === c.upper ? o.format(c.lower) : `${o.format(c.lower)} to ${o.format(c.upper)}`));
  const spec = buildMapSpec({ type: 'FeatureCollection', features }, { classLabels: labels, legendTitle: o.legendTitle, width: 640, height: 420, noValueLabel: 'not published (suppressed or too few cases)' });
  return chart(spec, o.sentence);
}
