// Schemas of the Open311 GeoReport v2 read API: what a client may ask and the spec's response and
// error shapes. The JSON response schemas name every field a request or service may have, so
// nothing else can leave (Fastify's serializer drops what a schema does not name).
import Type, { type Static, type TSchema } from 'typebox';
import { OPEN311_MAX_DAYS, OPEN311_MAX_REQUESTS } from '../../../warehouse/analytics/open311.ts';

const W3C = 'A W3C datetime (https://www.w3.org/TR/NOTE-datetime), e.g. 2026-03-08T01:59:59-05:00 or 2026-03-08T06:59:59Z; milliseconds allowed. Without an offset the time is the jurisdiction\'s local time; a date alone is a whole local day.';

/** Accepted and ignored: this endpoint serves one jurisdiction, and reading needs no key (the spec lets both be sent). */
const Ignored = {
  jurisdiction_id: Type.Optional(Type.String({ maxLength: 200, description: 'Ignored: this endpoint serves one jurisdiction (the spec lets such an endpoint ignore it)' })),
  api_key: Type.Optional(Type.String({ maxLength: 200, description: 'Ignored: reading needs no key' })),
};

export const ServicesQuery = Type.Object({ ...Ignored }, { additionalProperties: false });

const Extensions = Type.Optional(Type.Boolean({ description: 'true adds each request\'s public status trail as `notes` (the spec\'s "Update History" extension): the type and time of each event, never a note\'s text' }));

export const RequestsQuery = Type.Object(
  {
    service_request_id: Type.Optional(
      Type.String({ maxLength: 4000, description: `Comma list of request ids (at most ${OPEN311_MAX_REQUESTS}). When given, every other criterion is ignored (the spec: "This overrides all other arguments"); an id that does not exist is not listed` }),
    ),
    service_code: Type.Optional(Type.String({ maxLength: 2000, description: 'Comma list of service codes (GET /open311/v2/services.json); default: every service' })),
    start_date: Type.Optional(Type.String({ maxLength: 40, description: `Earliest requested_datetime (inclusive). ${W3C} Default: ${OPEN311_MAX_DAYS} days before end_date` })),
    end_date: Type.Optional(
      Type.String({
        maxLength: 40,
        description: `Latest requested_datetime (inclusive). ${W3C} At most ${OPEN311_MAX_DAYS} local days after start_date. Default: ${OPEN311_MAX_DAYS} days after start_date, or, with neither given, the newest request (windows follow the data, not the clock)`,
      }),
    ),
    status: Type.Optional(Type.String({ maxLength: 20, description: 'open, closed, or both as a comma list; default: both. A cancelled request is closed (status_notes: Cancelled)' })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Page (1 = newest requests), the pagination extension; pages are in requested_datetime order, newest first, ties by id, so walking them repeats and skips nothing' })),
    page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: OPEN311_MAX_REQUESTS, description: `Requests per page, 1–${OPEN311_MAX_REQUESTS} (default ${OPEN311_MAX_REQUESTS}, the spec's cap)` })),
    extensions: Extensions,
    ...Ignored,
  },
  { additionalProperties: false },
);
export type RequestsQueryString = Static<typeof RequestsQuery>;

export const RequestQuery = Type.Object({ extensions: Extensions, ...Ignored }, { additionalProperties: false });
export type RequestQueryString = Static<typeof RequestQuery>;

export const RequestParams = Type.Object({ service_request_id: Type.String({ minLength: 1, description: 'The request id (service_request_id)' }) });

export const ServiceSchema = Type.Object({
  service_code: Type.String({ description: 'The service\'s code (where the source gives none, its name)' }),
  service_name: Type.String(),
  description: Type.String({ description: 'Made only of what the catalogue says: the name, group, agency and service level' }),
  metadata: Type.Boolean({ description: 'Always false: no service definitions' }),
  type: Type.Literal('realtime'),
  keywords: Type.Optional(Type.String({ description: 'The group and agency, comma-separated' })),
  group: Type.Optional(Type.String({ description: 'The service group' })),
});

const NoteSchema = Type.Object({
  datetime: Type.String(),
  type: Type.String({ description: 'opened, acknowledged, assigned, status_changed, closed, reopened or cancelled' }),
  description: Type.String({ description: 'The type in words (never a note\'s text)' }),
});

export const RequestSchema = Type.Object({
  service_request_id: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  status_notes: Type.Optional(Type.String({ description: 'Cancelled (a cancelled request is closed) or Reopened' })),
  service_name: Type.String(),
  service_code: Type.String(),
  agency_responsible: Type.Optional(Type.String()),
  requested_datetime: Type.String({ description: 'W3C datetime in the jurisdiction\'s zone, with its offset' }),
  updated_datetime: Type.Optional(Type.String({ description: 'Closed: when it was (last) closed or cancelled; open: its last event' })),
  expected_datetime: Type.Optional(Type.String({ description: 'The due time (the source\'s, else opened + the service\'s SLA)' })),
  lat: Type.Optional(Type.Number({ description: 'Generalised: the centre of the request\'s H3 resolution-8 cell (about 0.7 km²); absent without a point' })),
  long: Type.Optional(Type.Number({ description: 'Generalised, as lat' })),
  notes: Type.Optional(Type.Array(NoteSchema, { description: 'extensions=true only' })),
});

export const ErrorsSchema = Type.Array(Type.Object({ code: Type.Integer(), description: Type.String() }), { description: 'The spec\'s error list' });

const XML = Type.String({ description: 'The same content as the JSON form, as the spec\'s XML (text/xml; charset=utf-8)' });

type Format = 'json' | 'xml';
const body = (format: Format, json: TSchema, description: string) =>
  format === 'json' ? { description, content: { 'application/json': { schema: json } } } : { description, content: { 'text/xml': { schema: XML } } };
const errors = (format: Format, description: string) => body(format, ErrorsSchema, description);

const TOO_MANY = (format: Format) => errors(format, 'Too many requests from one address this minute (limits.public_per_minute)');

const ACCESS = 'No token needed (a bad one is still refused); rate-limited per address (limits.public_per_minute).';

export const servicesSchema = (format: Format) => ({
  summary: `Open311 GeoReport v2: the service list (${format.toUpperCase()})`,
  description: `Every service a request may be of, except sensitive ones (disclosure.sensitive_services). ${ACCESS}`,
  tags: ['open311'],
  querystring: ServicesQuery,
  response: {
    200: body(format, Type.Array(ServiceSchema), 'The services'),
    400: errors(format, 'A parameter this endpoint does not take'),
    429: TOO_MANY(format),
  },
});

export const requestsSchema = (format: Format) => ({
  summary: `Open311 GeoReport v2: service requests (${format.toUpperCase()})`,
  description:
    `Requests opened in a window of at most ${OPEN311_MAX_DAYS} days (default: the ${OPEN311_MAX_DAYS} days up to the newest request), newest first, at most ${OPEN311_MAX_REQUESTS} a page. ` +
    'Public fields only: no address, description or media; the point generalised to its H3 resolution-8 cell centre; sensitive services never listed. ' +
    `Datetimes in the jurisdiction's zone with its offset. An empty parameter is the same as none. ${ACCESS}`,
  tags: ['open311'],
  querystring: RequestsQuery,
  response: {
    200: body(format, Type.Array(RequestSchema), 'The requests (an empty list when none match)'),
    400: errors(format, 'A bad parameter: the list says which and why'),
    429: TOO_MANY(format),
  },
});

export const requestSchema = (format: Format) => ({
  summary: `Open311 GeoReport v2: one service request (${format.toUpperCase()})`,
  description: `A list of one request, as the spec has it. A request that does not exist, or is of a sensitive service, is the same 404. ${ACCESS}`,
  tags: ['open311'],
  params: RequestParams,
  querystring: RequestQuery,
  response: {
    200: body(format, Type.Array(RequestSchema), 'The request, as a list of one'),
    400: errors(format, 'A bad parameter'),
    404: errors(format, 'No such request'),
    429: TOO_MANY(format),
  },
});
