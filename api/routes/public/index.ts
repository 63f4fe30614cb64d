// The public API: /api/public/kpis and /api/public/trends answer without a token, and only ever
// with disclosure-controlled figures (warehouse/privacy/): every number comes from one protected
// release, never from a query of the route's own.
import type { FastifyPluginAsync } from 'fastify';
import { parseDimensions } from '../../../warehouse/analytics/dimensions.ts';
import { checkPublicBy, publicKpis, publicTrends, type PublicDimension, type PublicRow } from '../../../warehouse/analytics/public-kpis.ts';
import { DEFAULT_POLICY, type DisclosurePolicy, type PublicPeriod } from '../../../warehouse/privacy/policy.ts';
import { ParameterError } from '../../../warehouse/errors.ts';
import { toCsv } from '../../../reports/render-csv.ts';
import { localDay } from '../../public-site/format.ts';
import { publicKpisSchema, publicTrendsSchema, PUBLIC_DIMENSIONS, type PublicKpisQueryString, type PublicTrendsQueryString } from './schema.ts';

export interface PublicRoutesOptions {
  /** The configuration's disclosure keys; missing ones take the defaults (k 10, 20 cases, no sensitive service). */
  disclosure?: Partial<DisclosurePolicy>;
}

const METHODOLOGY = { measures: '/api/measures', documentation: '/docs' };

/** The period a request means: named in `by`, or `period`, or the default. */
function periodOf(by: readonly string[], period: PublicPeriod | undefined, fallback: PublicPeriod): PublicPeriod {
  const named = by.find((d): d is PublicPeriod => d === 'week' || d === 'month');
  if (named && period && named !== period) throw new ParameterError('by', `by "${named}" does not match period "${period}"`);
  return named ?? period ?? fallback;
}

const FLAG_TEXT = { suppressed: 'suppressed', too_few_cases: 'too few cases', not_reached: 'not reached', not_available: 'not available' } as const;

/** A flat CSV row: a withheld figure is empty, and `notes` says why. */
function csvRow(r: PublicRow): Record<string, unknown> {
  return { ...r, notes: Object.entries(r.flags).map(([m, f]) => `${m}: ${FLAG_TEXT[f as keyof typeof FLAG_TEXT]}`).join('; '), flags: undefined };
}

const CSV_MEASURES = ['opened', 'suppressed', 'median_hours_to_close', 'on_time_rate', 'csat_top2', 'notes'];

const publicRoutes: FastifyPluginAsync<PublicRoutesOptions> = async (fastify, opts) => {
  const policy: DisclosurePolicy = { ...DEFAULT_POLICY, ...opts.disclosure };

  fastify.get<{ Querystring: PublicKpisQueryString }>('/api/public/kpis', { schema: publicKpisSchema }, async (request, reply) => {
    const q = request.query;
    const by = parseDimensions(q.by, 'by', PUBLIC_DIMENSIONS) as string[] as PublicDimension[];
    const period = periodOf(by, q.period, 'month');
    const problem = checkPublicBy(by, period);
    if (problem) throw new ParameterError('by', problem);
    const j = await fastify.jurisdiction();
    const result = await publicKpis(fastify.warehouse, by, { period, policy, timezone: j.timezone });
    if (q.format === 'csv') {
      // Every table of the response, one after another; a margin's empty label columns mean "all".
      const rows = result.tables.flatMap((t) => t.rows.map(csvRow));
      const dims = ['service_group', 'service', 'area', period].filter((d) => rows.some((r) => r[d] !== undefined));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="public-kpis-${result.from ?? 'none'}-${result.to ?? 'none'}.csv"`)
        .send(toCsv(rows, [...dims, ...CSV_MEASURES]));
    }
    return { jurisdiction: j.name, ...result, as_of: localDay(result.as_of, result.timezone), methodology: METHODOLOGY };
  });

  fastify.get<{ Querystring: PublicTrendsQueryString }>('/api/public/trends', { schema: publicTrendsSchema }, async (request, reply) => {
    const q = request.query;
    const by = parseDimensions(q.by, 'by', ['service_group', 'service', 'area']) as string[] as PublicDimension[];
    const problem = checkPublicBy(by, q.period);
    if (problem) throw new ParameterError('by', problem);
    const j = await fastify.jurisdiction();
    const result = await publicTrends(fastify.warehouse, by, { period: q.period, policy, timezone: j.timezone });
    if (q.format === 'csv') {
      const rows = result.series.flatMap((s) =>
        s.periods.map((p, i) => ({ service_group: s.service_group, service: s.service, area: s.area, [q.period]: p, opened: s.opened[i], suppressed: s.suppressed[i] })),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="public-trends-${result.from ?? 'none'}-${result.to ?? 'none'}.csv"`)
        .send(toCsv(rows, ['service_group', 'service', 'area', q.period, 'opened', 'suppressed']));
    }
    return { jurisdiction: j.name, ...result, as_of: localDay(result.as_of, result.timezone), methodology: METHODOLOGY };
  });
};

export default publicRoutes;
