import Type, { type Static } from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';

export const AuditQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'From this UTC date (2026-11-01) or date-time, inclusive' })),
    until: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'Up to this UTC date (its whole day) or date-time, inclusive' })),
    principal: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "A caller: a token id (GET /api/tokens), oidc:<subject>, local-admin, or a token's name" })),
    route: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A route as declared (/api/kpis, /api/tokens/:token_id); ending in / matches every route under it' })),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'At most this many rows, newest first (1–10,000)' }),
    offset: Type.Integer({ minimum: 0, default: 0, description: 'Rows to skip' }),
    format: Format,
  },
  { additionalProperties: false },
);
export type AuditQueryString = Static<typeof AuditQuery>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const AuditEntry = Type.Object({
  audit_id: Type.Integer(),
  at: Type.String({ description: 'When the request arrived (UTC, ISO 8601)' }),
  request_id: Nullable(Type.String()),
  principal_id: Type.String({ description: 'Token id, oidc:<subject>, or local-admin (the server credential file)' }),
  principal_name: Type.String(),
  role: Type.String(),
  agencies: Nullable(Type.Array(Type.String())),
  via: Type.String({ description: 'token, session, oidc or local' }),
  method: Type.String(),
  route: Type.String(),
  parameters: Type.Record(Type.String(), Type.Unknown(), { description: 'The query string as sent and the path parameters' }),
  status: Type.Integer(),
  rows_returned: Nullable(Type.Integer({ description: 'Rows, features or findings returned; null when the answer is not a table or was refused' })),
  duration_ms: Nullable(Type.Number()),
});

export const AuditResponse = Type.Object({
  total: Type.Integer({ description: 'Rows that match, in all' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  entries: Type.Array(AuditEntry),
});

export const auditRouteSchema = {
  summary: 'Who read staff data: principal, route, parameters, rows returned and time, newest first — admin',
  description:
    'One row per request to a staff or admin route by an identified caller (refused ones too, with their status), and per dashboard sign-in and sign-out. ' +
    '`?format=csv` gives the same rows (parameters as JSON text). Reading the log is itself recorded.',
  tags: ['access'],
  querystring: AuditQuery,
  response: {
    200: { description: 'Audit rows', content: { 'application/json': { schema: AuditResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
  },
};
