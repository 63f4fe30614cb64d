// GET /api/cases (the cases behind a count) and GET /api/cases/:case_id (one case with its trail).
// Cases are for admins and managers: a planner works with aggregates and places, and a public
// token never sees a case. Audited like every staff route (plugins/audit.ts), the CSV's rows too.
import type { FastifyPluginAsync } from 'fastify';
import { caseDetail, CASE_ROW_COLUMNS, listCases } from '../../../warehouse/analytics/cases.ts';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { filterOf } from '../../schemas/window.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows } from '../../stream-rows.ts';
import { caseRouteSchema, casesRouteSchema, type CaseListQueryString, type CaseParamsType, type CaseQueryString } from './schema.ts';

const cases: FastifyPluginAsync = async (fastify) => {
  const managers = fastify.requireRole('admin', 'manager');

  fastify.get<{ Querystring: CaseListQueryString }>('/api/cases', { schema: casesRouteSchema, preHandler: managers }, async (request, reply) => {
    const q = request.query;
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const csv = q.format === 'csv';
    const result = await listCases(fastify.warehouse, window, filterOf(q), {
      measure: q.measure,
      sort: q.sort,
      order: q.order,
      page: q.page,
      page_size: q.page_size,
      all: csv,
      area_kind: q.area_kind,
      scope: scopeOf(request),
    });
    if (csv) return sendCsvRows(request, reply, `cases-${result.measure}-${window.from}-${window.to}.csv`, result.rows as unknown as Record<string, unknown>[], CASE_ROW_COLUMNS);
    return result;
  });

  fastify.get<{ Params: CaseParamsType; Querystring: CaseQueryString }>('/api/cases/:case_id', { schema: caseRouteSchema, preHandler: managers }, async (request, reply) => {
    const detail = await caseDetail(fastify.warehouse, request.params.case_id, {
      timezone: (await fastify.jurisdiction()).timezone,
      as_of: request.query.as_of,
      area_kind: request.query.area_kind,
      scope: scopeOf(request),
    });
    // The same answer for a case outside the caller's agencies as for no case: a scope does not confirm one exists.
    if (!detail) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No case "${request.params.case_id}" that you may see.` });
    return detail;
  });
};

export default cases;
