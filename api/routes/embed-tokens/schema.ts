// Issuing an embed token: which staff view, its window and filters, and how long it lasts.
import Type, { type Static } from 'typebox';
import { ErrorResponse } from '../../schemas/common.ts';
import { STAFF_EMBED_VIEWS } from '../../public-site/staff-view.ts';

const Name = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 200, description }));

export const MAX_EMBED_DAYS = 90;

export const EmbedTokenBody = Type.Object(
  {
    view: Type.Union(STAFF_EMBED_VIEWS.map((v) => Type.Literal(v)), { description: 'The staff view the token opens' }),
    weeks: Type.Integer({ minimum: 1, maximum: 104, default: 12, description: 'The window: this many weeks up to the newest request, moving with the data' }),
    service: Name('Only this service (code or name)'),
    service_group: Name('Only this service group'),
    agency: Name('Only this agency (within your own scope)'),
    channel: Name('Only this channel'),
    area: Name('Only this area (id or name) of the area kind'),
    area_kind: Name('Which areas `area` means'),
    expires_in_hours: Type.Integer({ minimum: 1, maximum: MAX_EMBED_DAYS * 24, default: 30 * 24, description: `How long the link works (at most ${MAX_EMBED_DAYS} days)` }),
  },
  { additionalProperties: false },
);
export type EmbedTokenBodyType = Static<typeof EmbedTokenBody>;

export const EmbedTokenResponse = Type.Object({
  token: Type.String({ description: 'Shown once; anyone with the link sees the view until it expires' }),
  url: Type.String({ description: 'The path to put in an iframe, token included' }),
  view: Type.String(),
  params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
  agencies: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'The agency scope the view is limited to (yours): null = every agency' }),
  expires_at: Type.String({ format: 'date-time' }),
});

export const embedTokenSchema = {
  description: 'Issue a signed, expiring link to one staff view that a city page may show in an iframe without a credential. The view shows what your own scope sees.',
  tags: ['embeds'],
  body: EmbedTokenBody,
  response: { 200: EmbedTokenResponse, 400: ErrorResponse },
};
