import Type from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { ROLES } from '../../../warehouse/access/tokens.ts';

const Role = Type.Enum([...ROLES], { description: `One of ${ROLES.join(', ')}` });
const Agencies = Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'Agencies the token is limited to; null = every agency' });
const Status = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]);
const Time = (description: string) => Type.String({ description: `${description} (UTC, ISO 8601)` });

export const TokenInfo = Type.Object({
  token_id: Type.String(),
  name: Type.String(),
  role: Role,
  agencies: Agencies,
  created_at: Time('When it was created'),
  expires_at: Type.Union([Time('When it stops working'), Type.Null()], { description: 'null = never' }),
  revoked_at: Type.Union([Time('When it was revoked'), Type.Null()]),
  status: Status,
});

export const CreateTokenBody = Type.Object(
  {
    role: Role,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'What the token is for (default: "<role> token")' })),
    agencies: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100, description: 'Limit the token to these agencies (a row-level filter); each must be an agency in the data. Leave out for every agency.' }),
    ),
    expires_at: Type.Optional(
      Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the token stops working (UTC, ISO 8601); null = never; left out = 90 days from now' }),
    ),
  },
  { additionalProperties: false },
);

export const CreatedToken = Type.Object({
  token: Type.String({ description: 'The token itself: shown this once, only its SHA-256 is stored' }),
  ...TokenInfo.properties,
  warnings: Type.Array(Type.String(), { description: 'What could not be checked (agencies, when no cases are loaded yet)' }),
});

export const TokenParams = Type.Object(
  { token_id: Type.String({ pattern: '^[0-9a-fA-F-]{36}$', description: 'The id `GET /api/tokens` lists' }) },
  { additionalProperties: false },
);

export const ListQuery = Type.Object({ format: Format }, { additionalProperties: false });

export const TokenList = Type.Object({ tokens: Type.Array(TokenInfo) });

export const RevokedToken = Type.Object({
  ...TokenInfo.properties,
  revoked_now: Type.Boolean({ description: 'false when the token had been revoked before' }),
});

const common = { tags: ['tokens'], security: [{ bearer: [] }] };

export const createTokenRouteSchema = {
  ...common,
  summary: 'Create an API token (returned once) — admin token',
  body: CreateTokenBody,
  response: { 201: CreatedToken, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
};

export const listTokensRouteSchema = {
  ...common,
  summary: 'Every API token, revoked ones too — never the token or its hash — admin token',
  querystring: ListQuery,
  response: {
    200: { description: 'The tokens, oldest first', content: { 'application/json': { schema: TokenList }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
    401: ErrorResponse,
    403: ErrorResponse,
  },
};

export const revokeTokenRouteSchema = {
  ...common,
  summary: 'Revoke an API token at once — admin token',
  params: TokenParams,
  response: { 200: RevokedToken, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
};
