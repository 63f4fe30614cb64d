// The KPI route's schemas, generated from the measure registry: one response field per measure,
// with its definition as the field's description.
import type { Static, TSchema } from 'typebox';
import Type from 'typebox';
import { MEASURES, type Measure } from '../../../warehouse/queries/measures.ts';
import { DIMENSION_NAMES } from '../../../warehouse/queries/case-predicates.ts';
import type { KpiResult, KpiRow } from '../../../warehouse/analytics/kpis.ts';
import { CsvBody, ErrorResponse, Format } from '../../schemas/common.ts';
import { WindowQuery } from '../../schemas/window.ts';

export const KpiQuery = Type.Object(
  {
    ...WindowQuery,
    by: Type.String({
      maxLength: 200,
      default: '',
      description: `Comma list of ${DIMENSION_NAMES.join(', ')}; empty or omitted: one overall row. Periods are cut in the jurisdiction's time zone.`,
    }),
    columns: Type.Union([Type.Literal('core'), Type.Literal('all')], {
      default: 'core',
      description: 'CSV only: `core` = the dimensions and the established columns, so existing spreadsheets keep working; `all` = every measure, channel mix as one `channel_mix_<channel>` column per channel. JSON always has every field.',
    }),
    format: Format,
  },
  { additionalProperties: false },
);

function measureSchema(m: Measure): TSchema {
  const description = `${m.definition} (${m.unit})`;
  if (m.kind === 'count') return Type.Integer({ description });
  if (m.kind === 'mix') return Type.Record(Type.String(), Type.Number(), { description });
  return Type.Union([Type.Number(), Type.Null()], { description });
}

const dimensionSchema = (d: string) =>
  Type.Optional(Type.String({ description: ['day', 'week', 'month', 'quarter'].includes(d) ? `First local day of the ${d} (YYYY-MM-DD; weeks start on Monday)` : `The ${d.replace('_', ' ')}` }));

export const KpiRowSchema = Type.Object({
  ...Object.fromEntries(DIMENSION_NAMES.map((d) => [d, dimensionSchema(d)])),
  ...Object.fromEntries((MEASURES as readonly Measure[]).map((m) => [m.name, measureSchema(m)])),
});

export const KpiResponse = Type.Object({
  as_of: Type.String({ description: 'What "now" was for open cases' }),
  from: Type.String(),
  to: Type.String(),
  timezone: Type.String(),
  area_kind: Type.String({ description: 'The area kind `area` refers to' }),
  by: Type.Array(Type.String()),
  filter: Type.Record(Type.String(), Type.String(), { description: 'The filters applied' }),
  rows: Type.Array(KpiRowSchema),
});

export const kpiRouteSchema = {
  summary: 'Service KPIs, overall or by any combination of service, service group, agency, channel, area and period',
  description:
    'Each row has the cases opened in its period (volume, time to close and to first response, opened-cohort on-time, channel mix, satisfaction), ' +
    'the backlog at as_of (a row not cut by period: every case open then, however old), and the cases first closed in its period ' +
    '(closed-cohort on-time, reopen rate, first-contact resolution, contacts per case). Every field is defined in GET /api/measures.',
  tags: ['analytics'],
  querystring: KpiQuery,
  response: {
    200: {
      description: 'KPI rows, one per group',
      content: { 'application/json': { schema: KpiResponse }, 'text/csv': { schema: CsvBody } },
    },
    400: ErrorResponse,
  },
};

export type KpiQueryString = Static<typeof KpiQuery>;
/** The response types, as the warehouse defines them (the dashboard imports these). */
export type KpiResponseBody = KpiResult;
export type KpiRowBody = KpiRow;
