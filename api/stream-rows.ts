// Large answers go out as a stream, a few hundred rows per turn of the event loop: serialising a
// table of thousands of rows in one go (JSON or CSV) held the server for a quarter of a second,
// during which not even /api/health was answered. Small ones go whole. The audit log still
// records how many rows were sent (a body written here skips the serialisation hook that counts
// them).
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csvChunks } from '../reports/render-csv.ts';
import { nextTurn, TURN_SIZE } from '../warehouse/turns.ts';

/** The head of `{...envelope, [key]: [` as JSON.stringify would write the whole object (the array last). */
function jsonHead(envelope: Record<string, unknown>, key: string): string {
  const head = JSON.stringify(envelope);
  return `${head.slice(0, -1)}${head === '{}' ? '' : ','}${JSON.stringify(key)}:[`;
}

/** `envelope` with its array `key` (`rows`) written last, a turn's worth of rows at a time. */
async function* jsonChunks(envelope: Record<string, unknown>, rows: readonly unknown[], key: string): AsyncGenerator<string> {
  yield jsonHead(envelope, key);
  for (let i = 0; i < rows.length; i += TURN_SIZE) {
    const part = rows.slice(i, i + TURN_SIZE).map((r) => JSON.stringify(r)).join(',');
    yield i === 0 ? part : `,${part}`;
    await nextTurn();
  }
  yield ']}';
}

/**
 * The answer as JSON: a body of at most one turn's rows is written in one go and sent whole (a
 * stream's chunks, turns and socket writes cost a busy server more than the small answers most
 * requests get: /api/kpis?by=service is 9 rows); a larger one is streamed.
 */
function jsonBody(envelope: Record<string, unknown>, rows: readonly unknown[], key: string): string | Readable {
  if (rows.length <= TURN_SIZE) return `${jsonHead(envelope, key)}${rows.map((r) => JSON.stringify(r)).join(',')}]}`;
  return Readable.from(jsonChunks(envelope, rows, key));
}

/** Sends `{...envelope, rows}` as JSON (streamed when large). */
export function sendJsonRows(request: FastifyRequest, reply: FastifyReply, envelope: Record<string, unknown>, rows: readonly unknown[]): FastifyReply {
  request.auditRows = rows.length;
  return reply.type('application/json; charset=utf-8').send(jsonBody(envelope, rows, 'rows'));
}

/**
 * Sends a GeoJSON FeatureCollection (`envelope` without its features, then `features`) as
 * JSON, streamed when large: a city's 10,000 resolution-9 cells are megabytes of coordinates,
 * which JSON.stringify wrote in one block of a tenth of a second or more.
 */
export function sendGeoJson(request: FastifyRequest, reply: FastifyReply, envelope: Record<string, unknown>, features: readonly unknown[]): FastifyReply {
  request.auditRows = features.length;
  return reply.type('application/geo+json; charset=utf-8').send(jsonBody(envelope, features, 'features'));
}

/** Sends rows as a streamed CSV download (RFC 4180, the same writer as toCsv). */
export function sendCsvRows(request: FastifyRequest, reply: FastifyReply, filename: string, rows: readonly Record<string, unknown>[], columns: readonly string[]): FastifyReply {
  request.auditRows = rows.length;
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(csvChunks(rows, columns)));
}
