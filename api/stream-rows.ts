// Large answers go out as a stream, a few hundred rows per turn of the event loop: serialising a
// table of thousands of rows in one go (JSON or CSV) held the server for a quarter of a second,
// during which not even /api/health was answered. The audit log still records how many rows
// were sent (a streamed body skips the serialisation hook that counts them).
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csvChunks } from '../reports/render-csv.ts';
import { nextTurn, TURN_SIZE } from '../warehouse/turns.ts';

/** `envelope` with its array `key` (`rows`) written last, as JSON.stringify would write the whole object. */
async function* jsonChunks(envelope: Record<string, unknown>, rows: readonly unknown[], key = 'rows'): AsyncGenerator<string> {
  const head = JSON.stringify(envelope);
  yield `${head.slice(0, -1)}${head === '{}' ? '' : ','}${JSON.stringify(key)}:[`;
  for (let i = 0; i < rows.length; i += TURN_SIZE) {
    const part = rows.slice(i, i + TURN_SIZE).map((r) => JSON.stringify(r)).join(',');
    yield i === 0 ? part : `,${part}`;
    await nextTurn();
  }
  yield ']}';
}

/** Sends `{...envelope, rows}` as streamed JSON. */
export function sendJsonRows(request: FastifyRequest, reply: FastifyReply, envelope: Record<string, unknown>, rows: readonly unknown[]): FastifyReply {
  request.auditRows = rows.length;
  return reply.type('application/json; charset=utf-8').send(Readable.from(jsonChunks(envelope, rows)));
}

/**
 * Sends a GeoJSON FeatureCollection (`envelope` without its features, then `features`) as
 * streamed JSON: a city's 10,000 resolution-9 cells are megabytes of coordinates, which
 * JSON.stringify wrote in one block of a tenth of a second or more.
 */
export function sendGeoJson(request: FastifyRequest, reply: FastifyReply, envelope: Record<string, unknown>, features: readonly unknown[]): FastifyReply {
  request.auditRows = features.length;
  return reply.type('application/geo+json; charset=utf-8').send(Readable.from(jsonChunks(envelope, features, 'features')));
}

/** Sends rows as a streamed CSV download (RFC 4180, the same writer as toCsv). */
export function sendCsvRows(request: FastifyRequest, reply: FastifyReply, filename: string, rows: readonly Record<string, unknown>[], columns: readonly string[]): FastifyReply {
  request.auditRows = rows.length;
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(csvChunks(rows, columns)));
}
