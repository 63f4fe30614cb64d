// What the public pages take: almost nothing — the release is fixed (warehouse/privacy/README.md),
// so a page may only choose which of its published figures to shade the map by, and which area.
import Type, { type Static } from 'typebox';
import { MAP_MEASURES } from '../../public-site/pages.ts';

const MapMeasure = Type.Union(MAP_MEASURES.map((m) => Type.Literal(m)), { description: 'Which published figure shades the map of areas (default: opened, the requests)' });

// Other parameters are ignored, not refused: links shared on social media and in newsletters
// arrive with tracking parameters (utm_source, fbclid), and a resident should still get the page.
const page = { additionalProperties: true };

export const HomeQuery = Type.Object({ map: Type.Optional(MapMeasure) }, page);
export type HomeQueryString = Static<typeof HomeQuery>;

export const AreaQuery = Type.Object({ area: Type.String({ minLength: 1, maxLength: 200, description: 'The area, by the name the overview lists' }) }, page);
export type AreaQueryString = Static<typeof AreaQuery>;

export const NoQuery = Type.Object({}, page);

export const EMBED_VIEWS = ['headline', 'trend', 'services', 'areas', 'map'] as const;
export type EmbedView = (typeof EMBED_VIEWS)[number];

export const EmbedParams = Type.Object({ view: Type.String({ maxLength: 40, description: `A public view: ${EMBED_VIEWS.join(', ')}` }) });
export const EmbedQuery = Type.Object(
  {
    map: Type.Optional(MapMeasure),
    token: Type.Optional(Type.String({ maxLength: 2000, description: 'A signed embed token (POST /api/embed-tokens) for a staff view' })),
  },
  page,
);
export type EmbedQueryString = Static<typeof EmbedQuery>;

const html = { description: 'An HTML page', content: { 'text/html': { schema: Type.String() } } };
export const pageSchema = (description: string, querystring: object) => ({ description, tags: ['public pages'], querystring, response: { 200: html, 400: html, 404: html } });
