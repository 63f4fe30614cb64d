// GET /api/ingest/batches/:batch_id/rejects: every row a batch did not load, with why (admin).
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import type { Warehouse } from '../../../warehouse/db.ts';
import { toCsv } from '../../../reports/render-csv.ts';
import { acceptServerCredential } from '../../tokens.ts';
import { rejectsRouteSchema, type RejectsParams, type RejectsQuery, type RejectsResponse } from './schema.ts';

export type RejectsPage = Static<typeof RejectsResponse>;
export type RejectsRows = Omit<RejectsPage, 'rows'> & { rows: { row_number: number; field: string | null; reason: string; raw: string | null }[] };
export const REJECT_COLUMNS = ['row_number', 'field', 'reason', 'raw'] as const;

/**
 * A page of a batch's rejected rows in row order; `raw` as JSON text (the API parses it).
 * Shared with `civic rejects`, which reads the warehouse directly when no server holds it.
 * (SQL here rather than in warehouse/ only because this change could not touch that folder.)
 */
export async function readRejects(wh: Warehouse, batchId: string, page: { limit: number; offset: number }): Promise<RejectsRows | null> {
  const batch = await wh.one<{ batch_id: string; file_name: string | null; profile: string | null; started_at: string; rows_read: number | null; total: number }>(
    `SELECT b.batch_id, b.file_name, b.profile, strftime(b.started_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS started_at, b.rows_read,
            (SELECT count(*) FROM ingest_rejects r WHERE r.batch_id = b.batch_id)::INTEGER AS total
       FROM ingest_batches b WHERE b.batch_id = $b`,
    { b: batchId },
  );
  if (!batch) return null;
  const rows = await wh.all<{ row_number: number; field: string | null; reason: string; raw: string | null }>(
    `SELECT row_number, field, reason, raw::VARCHAR AS raw FROM ingest_rejects WHERE batch_id = $b ORDER BY row_number, field LIMIT $limit OFFSET $offset`,
    { b: batchId, limit: page.limit, offset: page.offset },
  );
  return { ...batch, limit: page.limit, offset: page.offset, rows };
}

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
