// GET /api/repeat-locations: places (H3 cells of resolution 10 or 11) where the same service was
// requested again within N days of a close (warehouse/analytics/repeat-locations.ts).
import Type, { type Static } from 'typebox';
import { CsvBody, ErrorResponse } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';
import { DEFAULT_REPEAT_DAYS, MAX_REPEAT_DAYS } from '../../../warehouse/analytics/repeat-locations.ts';

export const RepeatQuery = Type.Object(
  {
    ...WindowQuery,
    days: Type.Integer({ minimum: 1, maximum: MAX_REPEAT_DAYS, default: DEFAULT_REPEAT_DAYS, description: 'N: a request opened at most N days (× 24 h, inclusive) after an earlier request\'s close, same service, same place, is a repeat' }),
    resolution: Type.Union([Type.Literal(10), Type.Literal(11)], { default: 10, description: 'H3 resolution of a place: 10 (about 15,000 m²) or 11 (about 2,100 m²)' }),
    limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500, description: 'Places × services listed at most, most repeats first (totals count them all)' }),
    format: Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('geojson')], { default: 'json', description: 'json (default), csv (one row per place and service) or geojson (one cell polygon per place, its services listed)' }),
  },
  { additionalProperties: false },
);
export type RepeatQueryString = Static<typeof RepeatQuery>;

const Place = Type.Object({
  h3: Type.String(), centre: Type.Tuple([Type.Number(), Type.Number()], { description: "The cell's centre, [lng, lat]" }), area: Type.String(), service: Type.String(),
  requests: Type.Integer(), repeats: Type.Integer(), repeat_share: Type.Number(),
  first_request: Type.String(), last_request: Type.String(), last_repeat: Type.String(),
});

export const RepeatResponse = Type.Object({
  from: Type.String(), to: Type.String(), as_of: Type.String(), timezone: Type.String(), area_kind: Type.String(),
  filter: Type.Record(Type.String(), Type.String()),
  days: Type.Integer(), resolution: Type.Integer(),
  requests_with_point: Type.Integer(), requests_without_point: Type.Integer(),
  places_total: Type.Integer(), repeats_total: Type.Integer(), limit: Type.Integer(),
  places: Type.Array(Place),
  definition: Type.String(), sentence: Type.String(),
});

export const repeatRouteSchema = {
  summary: 'Repeat locations: places (H3 cells) where the same service was requested again within N days of a close — failure demand at a place (staff: cells, never points)',
  description:
    'Requests opened in the window (the shared window, filters, area kind and agency scope), placed in an H3 cell of `resolution` from their point; a request is a repeat when an earlier ' +
    'request of the same service in the same cell was first closed (by the as-of time) at most `days` days before it opened. Only places with a repeat are listed, most repeats first. ' +
    'Each place names the area (of area_kind) most of its requests are in.',
  tags: ['analytics'],
  querystring: RepeatQuery,
  response: {
    200: { description: 'The places', content: { 'application/json': { schema: RepeatResponse }, 'text/csv': { schema: CsvBody }, 'application/geo+json': { schema: Type.Any() } } },
    400: ErrorResponse,
  },
};
