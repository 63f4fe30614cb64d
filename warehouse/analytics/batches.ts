// The ingest log as users read it: a batch and the rows it did not load, with why.
import type { Warehouse } from '../db.ts';

export interface RejectsRows {
  batch_id: string;
  file_name: string | null;
  profile: string | null;
  started_at: string;
  rows_read: number | null;
  /** Rejected rows in the batch, all pages. */
  total: number;
  limit: number;
  offset: number;
  rows: { row_number: number; field: string | null; reason: string; raw: string | null }[];
}

/**
 * A page of a batch's rejected rows in row order; `raw` as JSON text (the API parses it).
 * Shared with `civic rejects`, which reads the warehouse directly when no server holds it.
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

