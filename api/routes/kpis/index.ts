import type { FastifyPluginAsync } from 'fastify';
import { computeKpis, resolveWindow, type KpiRow } from '../../../warehouse/analytics/kpis.ts';
import { parseDimensions } from '../../../warehouse/analytics/dimensions.ts';
import { csvMeasureNames } from '../../../warehouse/queries/measures.ts';
import type { Dimension } from '../../../warehouse/queries/case-predicates.ts';
import { toCsv } from '../../../reports/render-csv.ts';
import { filterOf } from '../../schemas/window.ts';
import { kpiRouteSchema, type KpiQueryString } from './schema.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';
import { sendCsvRows, sendJsonRows } from '../../stream-rows.ts';
import { mapInTurns } from '../../../warehouse/turns.ts';

/** A flat table for CSV: the registry's columns; with `all`, the channel mix spread over one `channel_mix_<channel>` column per channel seen. */
export async function kpiCsvTable(rows: readonly KpiRow[], by: readonly Dimension[], columns: 'core' | 'all'): Promise<{ rows: Record<string, unknown>[]; columns: string[] }> {
  const measures = csvMeasureNames(columns);
  if (columns === 'core') return { rows: rows as unknown as Record<string, unknown>[], columns: [...by, ...measures] };
  const channels = [...new Set(rows.flatMap((r) => Object.keys(r.channel_mix)))].sort();
  // A few hundred rows per turn of the event loop: a copy of a wide row costs about 0.4 ms.
  const flat = await mapInTurns(rows, (r) => {
    const out: Record<string, unknown> = { ...r };
    for (const ch of channels) out[`channel_mix_${ch}`] = Object.hasOwn(r.channel_mix, ch) ? r.channel_mix[ch] : 0;
    return out;
  });
  return { rows: flat, columns: [...by, ...measures, ...channels.map((ch) => `channel_mix_${ch}`)] };
}

export async function kpiCsv(rows: readonly KpiRow[], by: readonly Dimension[], columns: 'core' | 'all'): Promise<string> {
  const t = await kpiCsvTable(rows, by, columns);
  return toCsv(t.rows, t.columns);
}

const kpis: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Querystring: KpiQueryString }>('/api/kpis', { schema: kpiRouteSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const by = parseDimensions(q.by, 'by');
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const filter = filterOf(q);
    const scope = scopeOf(request);
    // The same question on the same data gets the same answer: computed once per data version.
    const result = await memoByData(fastify.warehouse, memoKey('kpis', by, window, filter, q.area_kind, scope),
      () => computeKpis(fastify.warehouse, by, window, filter, { area_kind: q.area_kind, scope }), (r) => r.rows.length);
    if (q.format === 'csv') {
      const t = await kpiCsvTable(result.rows, by, q.columns);
      return sendCsvRows(request, reply, `kpis-${window.from}-${window.to}.csv`, t.rows, t.columns);
    }
    const { rows, ...envelope } = result;
    return sendJsonRows(request, reply, envelope, rows);
  });
};

export default kpis;
