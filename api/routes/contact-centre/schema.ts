// The contact-centre route's schemas, generated from the contact measure registry: one row field
// per measure, with its definition as the field's description.
import type { Static, TSchema } from 'typebox';
import Type from 'typebox';
import {
  CONTACT_DIMENSIONS,
  CONTACT_MEASURES,
  DEFAULT_TARGET_WAIT_SECONDS,
  isContactPeriod,
  MAX_TARGET_WAIT_SECONDS,
  MIN_TARGET_WAIT_SECONDS,
  type ContactMeasure,
} from '../../../warehouse/queries/contact-measures.ts';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';

// The window of every analysis, and of its filters `channel` (the contact's own) and `agency` (of
// the linked case: what an agency scope means here too, so a scoped caller sees what an unscoped
// one sees filtering by their agency). service, service_group, area and area_kind are refused
// (400): the calls that matter most here, the abandoned ones, are linked to no case.
export const ContactCentreQuery = Type.Object(
  {
    from: WindowQuery.from,
    to: WindowQuery.to,
    weeks: Type.Integer({ minimum: 1, maximum: 520, default: 26, description: 'Length of the window in weeks when `from` is not given (default 26: enough weeks for the trend findings)' }),
    as_of: WindowQuery.as_of,
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Only contacts of this channel (the contact's own; GET /api/contact-centre/dimensions lists them)" })),
    agency: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only contacts linked to a case of this agency (contacts linked to no case, such as abandoned calls, belong to no agency)' })),
    team: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only contacts handled by this team (GET /api/contact-centre/dimensions lists them)' })),
    target_wait: Type.Integer({ minimum: MIN_TARGET_WAIT_SECONDS, maximum: MAX_TARGET_WAIT_SECONDS, default: DEFAULT_TARGET_WAIT_SECONDS, description: 'Target wait of the service level, in seconds (a wait equal to it is within it)' }),
    by: Type.String({ maxLength: 100, default: '', description: `Comma list of ${CONTACT_DIMENSIONS.join(', ')}; empty or omitted: one overall row. Periods are cut in the jurisdiction's time zone by the contact's start.` }),
    format: Format,
  },
  { additionalProperties: false },
);

function measureSchema(m: ContactMeasure): TSchema {
  const description = `${m.definition} (${m.unit})`;
  return m.kind === 'count' ? Type.Integer({ description }) : Type.Union([Type.Number(), Type.Null()], { description });
}

export const ContactRowSchema = Type.Object({
  ...Object.fromEntries(CONTACT_DIMENSIONS.map((d) => [d, Type.Optional(Type.String({ description: isContactPeriod(d) ? `First local day of the ${d} (YYYY-MM-DD; weeks start on Monday)` : `The ${d}` }))])),
  ...Object.fromEntries((CONTACT_MEASURES as readonly ContactMeasure[]).map((m) => [m.name, measureSchema(m)])),
});

export const ContactFindingSchema = Type.Object({
  kind: Type.Literal('asa_trend'),
  team: Type.String(),
  channel: Type.String(),
  direction: Type.Union([Type.Literal('falling'), Type.Literal('rising')], { description: 'Which way the weekly average speed of answer moves (falling: answered sooner)' }),
  slope_per_week_seconds: Type.Number({ description: "Sen's slope of the weekly average speed of answer, seconds a week" }),
  p: Type.Number({ description: 'Mann–Kendall, two-sided' }),
  q: Type.Number({ description: 'Benjamini–Hochberg adjusted over every team and channel tested' }),
  change_week: Type.String({ description: 'First week (Monday) after the shift: the least-squares change point of the weekly averages' }),
  before_seconds: Type.Number({ description: 'Mean of the weekly averages before change_week' }),
  after_seconds: Type.Number({ description: 'Mean of the weekly averages from change_week' }),
  weeks_before: Type.Integer(),
  weeks_after: Type.Integer(),
  sentence: Type.String(),
});

export const ContactCentreResponse = Type.Object({
  from: Type.String(),
  to: Type.String(),
  as_of: Type.String({ description: 'Contacts started after this time are not counted' }),
  timezone: Type.String(),
  target_wait_seconds: Type.Integer(),
  by: Type.Array(Type.String()),
  filter: Type.Object({ channel: Type.Optional(Type.String()), team: Type.Optional(Type.String()), agency: Type.Optional(Type.String()) }, { description: 'The filters applied' }),
  rows: Type.Array(ContactRowSchema),
  findings: Type.Array(ContactFindingSchema, { description: 'Significant trends of the weekly average speed of answer, per team and channel, each as a sentence' }),
  series_tested: Type.Integer({ description: 'Team and channel series with at least 8 weeks of answered contacts' }),
});

export const ContactDimensionsResponse = Type.Object({
  channels: Type.Array(Type.Object({ name: Type.String(), offered: Type.Integer() })),
  teams: Type.Array(Type.Object({ name: Type.String(), offered: Type.Integer() })),
});

export const contactCentreRouteSchema = {
  summary: 'Contact-centre measures (service level, abandonment, average speed of answer and handle time), overall or by channel, team and period, with their trend',
  description:
    'Counts the queued inbound contacts (those with a recorded wait: calls, counter visits) started in the window. Every field is defined in GET /api/measures (contact_measures). ' +
    'A caller scoped to agencies (or filtering by `agency`) sees only contacts linked to cases of those agencies. Other case filters (service, service_group, area, area_kind) are refused: abandoned calls have no case.',
  tags: ['analytics'],
  querystring: ContactCentreQuery,
  response: {
    200: { description: 'One row per group, and the trend findings', content: { 'application/json': { schema: ContactCentreResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};

export type ContactCentreQueryString = Static<typeof ContactCentreQuery>;
