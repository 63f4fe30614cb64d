// The case routes' schemas. A response schema names every field a case, event, contact or survey
// answer may show, so nothing else (a citizen key, a point, free text) could leave by accident:
// Fastify's serializer drops whatever a schema does not name.
import type { Static } from 'typebox';
import Type from 'typebox';
import { CASE_SORTS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SORT_ORDERS } from '../../../warehouse/analytics/cases.ts';
import { DRILLABLE_MEASURES } from '../../../warehouse/queries/measures.ts';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});
const Time = (description: string) => Nullable(Type.String(), `${description} (UTC, ISO 8601)`);

export const ACCESS_NOTE = 'Access: admin or manager only — planners and public tokens get 403 (cases are not for every staff role). A caller limited to agencies sees only their cases.';

export const CaseListQuery = Type.Object(
  {
    ...WindowQuery,
    measure: Type.String({
      minLength: 1,
      maxLength: 100,
      description: `The count whose cases to list (required): ${DRILLABLE_MEASURES.map((m) => m.name).join(', ')}. Rates list through their numerator or denominator; sums of answers, points or contacts have no list.`,
    }),
    sort: Type.Optional(Type.Union(CASE_SORTS.map((s) => Type.Literal(s)), { description: 'Sort key (default opened_at); the case id breaks ties, so pages never overlap' })),
    order: Type.Optional(Type.Union(SORT_ORDERS.map((s) => Type.Literal(s)), { description: 'asc or desc (default: desc for opened_at, closed_at and hours_to_close, asc otherwise); empty values come last either way' })),
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Page number, from 1' }),
    page_size: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `Cases per page (1–${MAX_PAGE_SIZE})` }),
    format: Format,
  },
  { additionalProperties: false },
);

export const CaseRowSchema = Type.Object({
  case_id: Type.String(),
  service: Type.String({ description: 'Service name (the code where the source gave no name)' }),
  service_code: Nullable(Type.String()),
  service_group: Type.String(),
  agency: Type.String(),
  channel: Type.String(),
  area: Type.String({ description: 'The area of the area kind, or the "no area" label; never a point' }),
  status: Type.String({ description: 'At the as-of time: open, closed or cancelled (reopened by then: open)' }),
  opened_at: Type.String({ description: 'Opening (UTC, ISO 8601)' }),
  first_response_at: Time('First action of the city, if any by the as-of time'),
  closed_at: Time('First close, if by the as-of time (as time to close is measured: a case reopened since keeps it)'),
  cancelled_at: Time('Cancellation, if by the as-of time'),
  due_at: Time('Due time; null when the case has none'),
  hours_to_close: Nullable(Type.Number(), 'First close − opening in hours; null when not closed by the as-of time (negative: a data error)'),
  past_due: Type.Boolean({ description: 'Open at the as-of time and past its due time' }),
  age_days: Nullable(Type.Integer(), 'Whole days open at the as-of time; null when not open then'),
  reopen_count: Type.Integer({ description: 'Reopenings by the as-of time' }),
});

export const CaseListResponse = Type.Object({
  measure: Type.String(),
  label: Type.String(),
  definition: Type.String(),
  from: Type.String(),
  to: Type.String(),
  as_of: Type.String({ description: 'What "now" was for open cases' }),
  timezone: Type.String(),
  area_kind: Type.String(),
  filter: Type.Record(Type.String(), Type.String(), { description: 'The filters applied' }),
  total: Type.Integer({ description: 'Cases the measure counts: the /api/kpis figure for the same window, filters, area kind and as-of' }),
  page: Type.Integer(),
  page_size: Type.Integer(),
  sort: Type.String(),
  order: Type.String(),
  rows: Type.Array(CaseRowSchema),
});

export const casesRouteSchema = {
  summary: 'The cases behind a count: the list of cases a KPI figure counts, paged and sorted, or all of them as CSV',
  description:
    `${ACCESS_NOTE}\n\nThe same window, filters, area kind and as-of as /api/kpis give the same cases: \`total\` is the KPI figure of \`measure\`. ` +
    'A week or a day is a window (from/to). The backlog measures count every case open at as_of, however long ago it opened (as a KPI row not cut by period). ' +
    '`?format=csv` streams every matching case (not one page), up to limits.max_query_rows (413 past it). No citizen identity, free text or exact location is ever shown.',
  tags: ['cases'],
  querystring: CaseListQuery,
  response: {
    200: { description: 'A page of cases', content: { 'application/json': { schema: CaseListResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
    413: ErrorResponse,
  },
};

export const CaseParams = Type.Object(
  { case_id: Type.String({ minLength: 1, maxLength: 300, description: 'The case id as lists show it (source:id)' }) },
  { additionalProperties: false },
);
export const CaseQuery = Type.Object(
  { as_of: WindowQuery.as_of, area_kind: WindowQuery.area_kind },
  { additionalProperties: false },
);

export const CaseEventSchema = Type.Object({
  event_id: Type.String(),
  event_type: Type.String({ description: 'opened, acknowledged, assigned, status_changed, closed, reopened, cancelled, duplicate_of or note' }),
  occurred_at: Type.String(),
  source: Type.String(),
  batch_id: Type.String({ description: 'The ingest batch that loaded it' }),
  status: Nullable(Type.String(), "The source's status value as loaded with this event (a flat export's row carries its status at the time of the export)"),
  service_code: Nullable(Type.String()),
  service_name: Nullable(Type.String()),
  agency: Nullable(Type.String()),
  channel: Nullable(Type.String()),
  area_name: Nullable(Type.String(), 'The area the source itself names, if any'),
  expected_at: Time("The source's own due time"),
  quality_flags: Type.Array(Type.String(), { description: 'What the loader found doubtful (codes)' }),
});
export const CaseInteractionSchema = Type.Object({
  interaction_id: Type.String(),
  channel: Type.String(),
  direction: Type.String(),
  started_at: Type.String(),
  answered_at: Type.Optional(Time('When it was answered, where the warehouse records it')),
  ended_at: Time('End'),
  wait_seconds: Nullable(Type.Number()),
  handle_seconds: Nullable(Type.Number()),
  outcome: Nullable(Type.String()),
  team: Nullable(Type.String()),
});
export const CaseSurveySchema = Type.Object({
  response_id: Type.String(),
  answered_at: Type.String(),
  csat: Nullable(Type.Integer()),
  nps: Nullable(Type.Integer()),
  trust: Nullable(Type.Integer()),
  interaction_id: Nullable(Type.String()),
  about: Type.String({ description: '`case`: an answer about the case; `interaction`: about one of its contacts' }),
});
export const CaseDetailResponse = Type.Object({
  as_of: Type.String(),
  timezone: Type.String(),
  area_kind: Type.String(),
  case: CaseRowSchema,
  events: Type.Array(CaseEventSchema, { description: 'Up to as_of, in time order' }),
  interactions: Type.Array(CaseInteractionSchema, { description: 'Contacts linked to the case, started by as_of; never the citizen key' }),
  surveys: Type.Array(CaseSurveySchema, { description: 'Answers given by as_of, about the case or one of its contacts; scores only' }),
});

export const caseRouteSchema = {
  summary: 'One case: its row, event trail, linked contacts and survey answers — never the citizen\'s identity',
  description: `${ACCESS_NOTE} A case of another agency is a 404, as one that does not exist.`,
  tags: ['cases'],
  params: CaseParams,
  querystring: CaseQuery,
  response: { 200: CaseDetailResponse, 400: ErrorResponse, 404: ErrorResponse },
};

export type CaseListQueryString = Static<typeof CaseListQuery>;
export type CaseParamsType = Static<typeof CaseParams>;
export type CaseQueryString = Static<typeof CaseQuery>;
/** The response types (the dashboard imports these). */
export type CaseListBody = Static<typeof CaseListResponse>;
export type CaseDetailBody = Static<typeof CaseDetailResponse>;
export type CaseRowBody = Static<typeof CaseRowSchema>;
