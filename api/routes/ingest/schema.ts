import Type from 'typebox';
import { ErrorResponse } from '../../schemas/common.ts';

export const IngestQuery = Type.Object(
  {
    profile: Type.String({ pattern: '^[a-z0-9_-]+$', description: 'A built-in mapping profile (civic ingest --help lists them)' }),
    filename: Type.Optional(Type.String({ pattern: '^[^/\\\\\\u0000-\\u001f]{1,200}$', description: 'The file name, whose extension tells the format when the profile does not (.csv, .ndjson, .json, .xml, .arrow)' })),
    timezone: Type.Optional(Type.String({ minLength: 1, description: "Overrides the profile's time zone for timestamps without an offset" })),
    jurisdiction: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Whose data this is (e.g. \"City of Los Angeles\"); recorded by the first real ingest. Overrides the profile's" })),
  },
  { additionalProperties: false },
);

export const IngestResponse = Type.Object({
  batch_id: Type.String(),
  kind: Type.String(),
  read: Type.Integer(),
  loaded: Type.Integer(),
  rejected: Type.Integer(),
  duplicate: Type.Integer(),
  flagged: Type.Integer(),
  events_added: Type.Integer(),
  warnings: Type.Array(Type.String(), { description: 'Things to know although the file loaded, e.g. a time zone unlike the warehouse\'s' }),
  same_as: Type.Optional(Type.String({ description: 'The batch this one repeated: the same file, read the same way, as the last one loaded, with nothing since; its counts are that batch\'s and nothing was read into the warehouse again' })),
});

export const ingestRouteSchema = {
  summary: 'Load an export (streamed request body) through a built-in mapping profile — admin token',
  tags: ['ingest'],
  security: [{ bearer: [] }],
  querystring: IngestQuery,
  response: { 200: IngestResponse, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 413: ErrorResponse, 503: ErrorResponse },
};
