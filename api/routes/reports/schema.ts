// Scheduled reports: definitions (admin), runs and their deliveries, files.
import Type from 'typebox';
import { ErrorResponse } from '../../schemas/common.ts';
import { ReportDefinitionSchema, REPORT_ID_PATTERN } from '../../../reports/report-config.ts';
import { RUN_ID_PATTERN } from '../../../reports/run.ts';

const ReportId = Type.String({ pattern: REPORT_ID_PATTERN, description: 'The report definition id' });
const RunId = Type.String({ pattern: RUN_ID_PATTERN, description: 'A run id, e.g. 20261116T120000Z-1a2b3c4d' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const DefinitionView = Type.Object({
  ...ReportDefinitionSchema.properties,
  source: Type.Union([Type.Literal('config'), Type.Literal('built-in'), Type.Literal('api')], { description: 'config and built-in definitions are read-only here' }),
  effective_timezone: Type.String({ description: 'The zone its schedule and dates are in (its own, else the jurisdiction\'s)' }),
  next_runs: Type.Array(Type.String({ format: 'date-time' }), { description: 'The next three scheduled runs (none when it has no cron or is disabled)' }),
  running_run: Nullable(Type.String()),
});

const RunFile = Type.Object({ name: Type.String(), bytes: Type.Integer(), sha256: Type.String(), content_type: Type.String() });

const RunBase = {
  run_id: Type.String(),
  report_id: Type.String(),
  title: Nullable(Type.String()),
  trigger: Type.Union(['schedule', 'catch-up', 'api', 'cli', 'retry'].map((t) => Type.Literal(t))),
  scheduled_for: Nullable(Type.String()),
  retry_of: Nullable(Type.String()),
  requested_by: Nullable(Type.String()),
  started_at: Type.String(),
  finished_at: Nullable(Type.String()),
  status: Type.Union(['running', 'succeeded', 'partial', 'failed'].map((t) => Type.Literal(t))),
  error: Nullable(Type.String()),
  as_of: Nullable(Type.String()),
  period: Nullable(Type.String()),
  files: Type.Array(RunFile),
};

export const Delivery = Type.Object({
  recipient: Type.String(),
  kind: Type.Union(['folder', 'email', 'webhook', 'owner'].map((t) => Type.Literal(t))),
  started_at: Type.String(),
  finished_at: Nullable(Type.String()),
  status: Type.Union(['sending', 'sent', 'failed'].map((t) => Type.Literal(t))),
  attempts: Type.Integer(),
  error: Nullable(Type.String()),
  detail: Nullable(Type.String()),
});

const RunSummary = Type.Object({ ...RunBase, deliveries: Type.Object({ sent: Type.Integer(), failed: Type.Integer(), sending: Type.Integer() }) });
const RunDetail = Type.Object({ ...RunBase, definition: Type.Record(Type.String(), Type.Unknown()), deliveries: Type.Array(Delivery), retried_by: Type.Array(Type.String()) });

const tags = ['reports'];
const errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

export const listDefinitionsSchema = {
  description: 'Report definitions you may run (admins: all; managers: those within their agencies), each with its next three run times.',
  tags,
  response: { 200: Type.Object({ reports: Type.Array(DefinitionView) }) },
};
export const getDefinitionSchema = { description: 'One report definition with its next three run times.', tags, params: Type.Object({ id: ReportId }), response: { 200: DefinitionView, ...errors } };
export const createDefinitionSchema = {
  description: 'Create a report definition (stored in the warehouse; scheduled at once). Ids of the configuration and the built-in reports are taken.',
  tags,
  body: ReportDefinitionSchema,
  response: { 201: DefinitionView, ...errors },
};
export const updateDefinitionSchema = {
  description: 'Replace a definition made through the API (the whole definition: webhook URLs are shown without their credentials, so give them again). Configuration ones are read-only (409).',
  tags,
  params: Type.Object({ id: ReportId }),
  body: Type.Object({ ...ReportDefinitionSchema.properties, id: Type.Optional(ReportId) }, { additionalProperties: false }),
  response: { 200: DefinitionView, ...errors },
};
export const deleteDefinitionSchema = {
  description: 'Delete a definition made through the API; its runs stay on record.',
  tags,
  params: Type.Object({ id: ReportId }),
  response: { 204: Type.Null(), ...errors },
};
export const runNowSchema = {
  description: 'Run a report now (admins; managers for reports within their agencies). Answers at once with the run id; GET /api/reports/runs/:run_id follows it. 409 while a run of the same report is going.',
  tags,
  params: Type.Object({ id: ReportId }),
  querystring: Type.Object({ as_of: Type.Optional(Type.String({ description: 'Build as of this time (ISO); default: the data\'s' })) }, { additionalProperties: false }),
  response: { 202: Type.Object({ run_id: Type.String(), report_id: Type.String(), status: Type.Literal('running'), url: Type.String() }), ...errors },
};
export const listRunsSchema = {
  description: 'Runs, newest first, with counts of their deliveries by status.',
  tags,
  querystring: Type.Object(
    {
      report: Type.Optional(ReportId),
      status: Type.Optional(Type.Union(['running', 'succeeded', 'partial', 'failed'].map((t) => Type.Literal(t)))),
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
      offset: Type.Integer({ minimum: 0, default: 0 }),
    },
    { additionalProperties: false },
  ),
  response: { 200: Type.Object({ total: Type.Integer(), runs: Type.Array(RunSummary) }), 400: ErrorResponse },
};
export const getRunSchema = { description: 'One run with each recipient\'s delivery (started, finished, status, attempts, error) and the retries made of it.', tags, params: Type.Object({ run_id: RunId }), response: { 200: RunDetail, ...errors } };
export const retryRunSchema = {
  description: 'Resend a partly failed or failed run\'s files to the recipients whose delivery failed, and only to them (a new run, trigger "retry"). A run that failed before it had files is built again for every recipient.',
  tags,
  params: Type.Object({ run_id: RunId }),
  response: { 202: Type.Object({ run_id: Type.String(), retry_of: Type.String(), recipients: Type.Array(Type.String()), status: Type.Literal('running'), url: Type.String() }), ...errors },
};
export const runFileSchema = {
  description: 'Download one file of a run.',
  tags,
  params: Type.Object({ run_id: RunId, name: Type.String({ minLength: 1, maxLength: 300 }) }),
  response: { 404: ErrorResponse },
};
export const signedFileSchema = {
  description: 'Download a report file by the signed, expiring link sent instead of an attachment (or in a webhook). No credential: the link is one.',
  tags,
  params: Type.Object({ token: Type.String({ minLength: 10, maxLength: 2000 }) }),
  response: { 403: ErrorResponse, 404: ErrorResponse },
};
