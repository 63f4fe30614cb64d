// GET /api/audit: who read staff data (admin). `civic audit` prints the same, through the running
// server (with its local credential) or from the warehouse file.
import type { FastifyPluginAsync } from 'fastify';
import { toCsv } from '../../../reports/render-csv.ts';
import { acceptServerCredential } from '../../tokens.ts';
import { readAudit, type AuditRow } from '../../../warehouse/access/audit.ts';
import { auditRouteSchema, type AuditQueryString } from './schema.ts';

export const AUDIT_COLUMNS = ['at', 'principal_id', 'principal_name', 'role', 'agencies', 'via', 'method', 'route', 'parameters', 'status', 'rows_returned', 'duration_ms', 'request_id', 'audit_id'] as const;

/** The audit rows as CSV (agencies joined with "; ", parameters as JSON); `civic audit --csv` prints the same. */
export const auditCsv = (rows: readonly AuditRow[]) =>
  toCsv(rows.map((r) => ({ ...r, agencies: r.agencies?.join('; ') ?? null, parameters: JSON.stringify(r.parameters) })), AUDIT_COLUMNS);

const audit: FastifyPluginAsync = async (fastify) => {
  acceptServerCredential(fastify);
  fastify.get<{ Querystring: AuditQueryString }>('/api/audit', { schema: auditRouteSchema, config: { access: 'admin' } }, async (request, reply) => {
    const { format, ...q } = request.query;
    // This request's own row comes later; rows of requests already answered are waited for.
    await fastify.auditFlush();
    const page = await readAudit(fastify.warehouse, q, { since: 'querystring/since', until: 'querystring/until' });
    if (format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit.csv"')
        .send(auditCsv(page.entries));
    }
    return { total: page.total, limit: q.limit, offset: q.offset, entries: page.entries };
  });
};

export default audit;
