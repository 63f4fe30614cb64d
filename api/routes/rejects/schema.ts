import Type from 'typebox';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';

export const RejectsParams = Type.Object(
  { batch_id: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,200}$', description: 'The batch id an ingest reported (b_<UTC time>_<8 hex>)' }) },
  { additionalProperties: false },
);

export const RejectsQuery = Type.Object(
  {
    format: Format,
    limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'At most this many rows (1–100,000)' }),
    offset: Type.Integer({ minimum: 0, default: 0, description: 'Rows to skip, in row order' }),
  },
  { additionalProperties: false },
);

export const RejectRow = Type.Object({
  row_number: Type.Integer({ description: "The row's number in the file (the header is row 0)" }),
  field: Type.Union([Type.String(), Type.Null()], { description: 'The mapped field that failed, where one did' }),
  reason: Type.String(),
  raw: Type.Unknown({ description: "The row's mapped and kept source columns (JSON), or null" }),
});

export const RejectsResponse = Type.Object({
  batch_id: Type.String(),
  file_name: Type.Union([Type.String(), Type.Null()]),
  profile: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.String(),
  rows_read: Type.Union([Type.Integer(), Type.Null()]),
  total: Type.Integer({ description: 'Rejected rows in the batch' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  rows: Type.Array(RejectRow),
});

export const rejectsRouteSchema = {
  summary: 'The rows an ingest batch did not load, and why — admin token',
  description: 'Every row that was not loaded is here with its row number and reason. `?format=csv` gives the same rows (raw as JSON text).',
  tags: ['ingest'],
  security: [{ bearer: [] }],
  params: RejectsParams,
  querystring: RejectsQuery,
  response: {
    200: { description: 'A page of rejected rows', content: { 'application/json': { schema: RejectsResponse }, 'text/csv': { schema: CsvBody } } },
    400: ErrorResponse,
    401: ErrorResponse,
    403: ErrorResponse,
    404: ErrorResponse,
  },
};
