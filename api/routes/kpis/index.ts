import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { computeKpis, resolveWindow, type KpiRow } from '../../../warehouse/analytics/kpis.ts';
import { FILTER_NAMES, isDimension, type Dimension, type KpiFilter } from '../../../warehouse/queries/kpi-sql.ts';
import { toCsv } from '../../../reports/render-csv.ts';
import { kpiRouteSchema, type KpiQuery } from './schema.ts';

/** The CSV columns every KPI export has had; `columns=all` adds the rest after them. */
const CORE_COLUMNS = ['opened', 'closed', 'cancelled', 'median_hours_to_close', 'median_hours_ci_lower', 'median_hours_ci_upper',
  'p90_hours_to_close', 'on_time_rate', 'on_time', 'on_time_denominator', 'pending', 'excluded_data_errors'];
const MORE_COLUMNS = ['median_hours_to_first_response', 'excluded_first_response_errors',
  'backlog', 'backlog_0_2d', 'backlog_3_7d', 'backlog_8_30d', 'backlog_over_30d', 'backlog_past_due', 'backlog_past_due_share',
  'survey_responses', 'csat_responses', 'csat_top2', 'csat_mean', 'nps_responses', 'nps',
  'closed_in_period', 'on_time_rate_closed_cohort', 'on_time_closed_cohort', 'on_time_closed_cohort_denominator',
  'reopen_rate', 'reopened_within_30d', 'reopen_pending',
  'fcr_measured', 'fcr_reported', 'fcr_cases', 'fcr_measured_resolved', 'fcr_reported_resolved', 'fcr_pending',
  'contacts_per_case', 'inbound_contacts', 'repeat_contact_rate', 'repeat_contact_cases'] as const satisfies readonly (keyof KpiRow)[];

/** A flat table for CSV: channel mix spread over one `channel_mix_<channel>` column per channel seen. */
export function kpiCsv(rows: readonly KpiRow[], by: readonly Dimension[], columns: 'core' | 'all'): string {
  if (columns === 'core') return toCsv(rows as unknown as Record<string, unknown>[], [...by, ...CORE_COLUMNS]);
  const channels = [...new Set(rows.flatMap((r) => Object.keys(r.channel_mix)))].sort();
  const flat = rows.map((r) => {
    const out: Record<string, unknown> = { ...r };
    for (const ch of channels) out[`channel_mix_${ch}`] = Object.hasOwn(r.channel_mix, ch) ? r.channel_mix[ch] : 0;
    return out;
  });
  return toCsv(flat, [...by, ...CORE_COLUMNS, ...MORE_COLUMNS, ...channels.map((ch) => `channel_mix_${ch}`)]);
}

const kpis: FastifyPluginAsync<{ timezone: string }> = async (fastify, opts) => {
  fastify.get<{ Querystring: Static<typeof KpiQuery> }>('/api/kpis', { schema: kpiRouteSchema }, async (request, reply) => {
    const q = request.query;
    const by = [...new Set(q.by.split(','))].filter(isDimension) as Dimension[];
    const filter: KpiFilter = {};
    for (const f of FILTER_NAMES) if (q[f] !== undefined) filter[f] = q[f];
    const window = await resolveWindow(fastify.warehouse, q, opts.timezone);
    const result = await computeKpis(fastify.warehouse, by, window, filter);
    if (q.format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="kpis-${window.from}-${window.to}.csv"`)
        .send(kpiCsv(result.rows, by, q.columns));
    }
    return result;
  });
};

export default kpis;
