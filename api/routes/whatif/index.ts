// GET /api/whatif (staff): crews moved between areas for a service, projected against the baseline
// (warehouse/analytics/whatif.ts computes and keeps it). The configuration's `crews` come in as an option.
import type { FastifyPluginAsync } from 'fastify';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeWhatIf, WHATIF_CSV_COLUMNS, whatIfRows, type CrewsConfig } from '../../../warehouse/analytics/whatif.ts';
import { filterOf } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows } from '../../stream-rows.ts';
import { whatIfRouteSchema, type WhatIfQueryString } from './schema.ts';

const whatif: FastifyPluginAsync<{ crews?: CrewsConfig }> = async (fastify, opts) => {
  fastify.get<{ Querystring: WhatIfQueryString }>('/api/whatif', { schema: whatIfRouteSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const { service: _service, ...filter } = filterOf(q);
    const result = await computeWhatIf(fastify.warehouse, {
      window, service: q.service, filter, area_kind: q.area_kind, scope: scopeOf(request),
      move: q.move, crews: q.crews, configured: opts.crews ?? {}, horizon: q.horizon,
    });
    if (q.format === 'csv') {
      return sendCsvRows(request, reply, `whatif-${result.service_code ?? 'service'}-${result.from}-${result.to}-h${result.horizon}.csv`, whatIfRows(result), WHATIF_CSV_COLUMNS);
    }
    return result;
  });
};

export default whatif;
