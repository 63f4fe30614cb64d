// TypeBox schemas of /api/alerts: subscriptions to the dashboard's findings, and what was sent.
import Type, { type Static } from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { ALERT_KINDS } from '../../../warehouse/analytics/alerts.ts';

const Name = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 200, description }));
const Time = (description: string) => Type.String({ description: `${description} (UTC, ISO 8601)` });
const NullableTime = (description: string) => Type.Union([Time(description), Type.Null()]);
const Kind = Type.Enum([...ALERT_KINDS], { description: 'anomaly: a new day or run of days of unusual volume; trend: a significant trend in weekly volume; below_target: an on-time rate under its target' });

const Filter = Type.Object({
  service: Name('Only this service (code or name)'),
  service_group: Name('Only this service group'),
  agency: Name('Only this agency (within your own agencies)'),
  area: Name('Only this area (id or name) of the area kind'),
});

export const CreateAlertBody = Type.Object(
  {
    ...Filter.properties,
    area_kind: Name('Which areas `area` and the area findings mean (default: district if loaded, else the first kind, else source)'),
    kinds: Type.Optional(Type.Array(Kind, { minItems: 1, maxItems: 3, uniqueItems: true, description: 'What to be told of (default: all three)' })),
    // One object with exactly one of the two (rather than a union), so a bad URL is reported as
    // a bad URL, not as a missing e-mail address.
    channel: Type.Object(
      {
        email: Type.Optional(Type.String({ format: 'email', maxLength: 320, description: 'The address alerts are sent to' })),
        webhook: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000, description: 'The URL alerts are POSTed to as JSON, signed (X-Civic-Signature: sha256=HMAC-SHA256 of the body with the secret returned at creation)' })),
      },
      { additionalProperties: false, minProperties: 1, maxProperties: 1, description: '{ "email": address } or { "webhook": url }: exactly one' },
    ),
  },
  { additionalProperties: false },
);
export type CreateAlertBodyType = Static<typeof CreateAlertBody>;

export const Subscription = Type.Object({
  subscription_id: Type.String(),
  owner_id: Type.String({ description: 'The token (or identity) that subscribed' }),
  owner_name: Type.String(),
  owner_role: Type.String(),
  agencies: Type.Union([Type.Array(Type.String()), Type.Null()], { description: "The owner's agency scope when subscribing: findings are computed within it; null = every agency" }),
  filter: Filter,
  area_kind: Type.String(),
  kinds: Type.Array(Kind),
  channel: Type.Union([Type.Literal('email'), Type.Literal('webhook')]),
  target: Type.String({ description: 'The address or URL' }),
  created_at: Time('When it was made'),
  last_evaluated_at: NullableTime('The last evaluation that completed'),
  last_error: Type.Union([Type.String(), Type.Null()], { description: 'Why the last evaluation failed (null after one that completed)' }),
  last_error_at: NullableTime('When it failed'),
});

export const CreatedSubscription = Type.Object({
  ...Subscription.properties,
  webhook_secret: Type.Union([Type.String(), Type.Null()], { description: 'A webhook\'s signing secret: shown this once (null for e-mail)' }),
});

export const AlertEvent = Type.Object({
  event_id: Type.Integer(),
  finding_key: Type.String({ description: 'kind|service|area|direction: the same finding keeps its key across evaluations' }),
  kind: Kind,
  sentence: Type.String({ description: 'The finding as first seen' }),
  link: Type.String({ description: 'The dashboard view that shows it' }),
  detail: Type.Record(Type.String(), Type.Unknown(), { description: 'The finding\'s figures when first seen' }),
  data_as_of: Type.String({ description: 'The as-of time of the evaluation that first found it' }),
  first_seen_at: Time('When an evaluation first found it'),
  last_seen_at: Time('When an evaluation last found it'),
  sent_at: NullableTime('When it was sent (once)'),
  attempts: Type.Integer({ description: 'Attempts to send it' }),
  last_attempt_at: NullableTime('The last attempt'),
  last_error: Type.Union([Type.String(), Type.Null()], { description: 'Why the last attempt failed' }),
  cleared_at: NullableTime('When an evaluation no longer found it (it rearms: if it comes back, it is sent again)'),
  status: Type.Union([Type.Literal('pending'), Type.Literal('failed'), Type.Literal('sent'), Type.Literal('cleared'), Type.Literal('cleared unsent')]),
});

export const AlertParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-fA-F-]{36}$', description: 'The id GET /api/alerts lists' }) }, { additionalProperties: false });
export type AlertParamsType = Static<typeof AlertParams>;
export const ListQuery = Type.Object({ format: Format }, { additionalProperties: false });
export type ListQueryType = Static<typeof ListQuery>;

const common = { tags: ['alerts'] };
const refusals = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse };
const ACCESS = 'Managers and admins (planners and public tokens: 403).';

export const createRouteSchema = {
  ...common,
  summary: 'Subscribe to findings for a scope (e-mail or webhook), each sent once until it clears',
  description: `${ACCESS} The scope's names are checked against the data and your agency scope (400 naming the field); findings are always computed within your agencies. The alert's link opens the dashboard view that shows the finding.`,
  body: CreateAlertBody,
  response: { 201: CreatedSubscription, ...refusals },
};

export const listRouteSchema = {
  ...common,
  summary: 'Your alert subscriptions (an admin: everyone\'s)',
  description: ACCESS,
  querystring: ListQuery,
  response: {
    200: { description: 'Live subscriptions, oldest first', content: { 'application/json': { schema: Type.Object({ subscriptions: Type.Array(Subscription) }) }, 'text/csv': { schema: CsvBody } } },
    ...refusals,
  },
};

export const deleteRouteSchema = {
  ...common,
  summary: 'End a subscription (yours; an admin: any); what it sent stays readable',
  description: ACCESS,
  params: AlertParams,
  response: { 200: Subscription, ...refusals, 404: ErrorResponse },
};

export const eventsRouteSchema = {
  ...common,
  summary: 'What a subscription found, sent, failed to send and saw clear, newest first',
  description: ACCESS,
  params: AlertParams,
  querystring: ListQuery,
  response: {
    200: { description: 'Episodes, newest first', content: { 'application/json': { schema: Type.Object({ subscription_id: Type.String(), events: Type.Array(AlertEvent) }) }, 'text/csv': { schema: CsvBody } } },
    ...refusals,
    404: ErrorResponse,
  },
};
