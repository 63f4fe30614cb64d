// GET /api/ingest/batches/:batch_id/rejects: every row a batch did not load, with why (admin).
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { readRejects, type RejectsRows } from '../../../warehouse/analytics/batches.ts';
import { toCsv } from '../../../reports/render-csv.ts';
import { acceptServerCredential } from '../../tokens.ts';
import { rejectsRouteSchema, type RejectsParams, type RejectsQuery, type RejectsResponse } from './schema.ts';

export type RejectsPage = Static<typeof RejectsResponse>;
export { readRejects, type RejectsRows };
export const REJECT_COLUMNS = ['row_number', 'field', 'reason', 'raw'] as const;

/** The API's JSON: `raw` parsed back into the object it was. */
export const rejectsJson = (page: RejectsRows): RejectsPage => ({ ...page, rows: page.rows.map((r) => ({ ...r, raw: r.raw === null ? null : JSON.parse(r.raw) })) });
/** The API's CSV (`raw` as JSON text); `civic rejects --csv` prints the same. */
export const rejectsCsv = (page: RejectsRows): string => toCsv(page.rows, REJECT_COLUMNS);

export const unknownBatch = (batchId: string) => `No ingest batch "${batchId}" (each ingest prints its batch id)`;

const rejects: FastifyPluginAsync = async (fastify) => {
  acceptServerCredential(fastify);
  fastify.get<{ Params: Static<typeof RejectsParams>; Querystring: Static<typeof RejectsQuery> }>(
    '/api/ingest/batches/:batch_id/rejects',
    { schema: rejectsRouteSchema, preHandler: fastify.requireRole('admin') },
    async (request, reply) => {
      const q = request.query;
      const page = await readRejects(fastify.warehouse, request.params.batch_id, { limit: q.limit, offset: q.offset });
      if (!page) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: unknownBatch(request.params.batch_id) });
      if (q.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="rejects-${page.batch_id}.csv"`)
          .send(rejectsCsv(page));
      }
      return rejectsJson(page);
    },
  );
};

export default rejects;
