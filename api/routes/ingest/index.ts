import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { builtInProfiles, formatOf, loadProfile } from '../../../ingest/profile.ts';
import { CivicError } from '../../../warehouse/errors.ts';
import { isValidTimeZone } from '../../../ingest/time-zone.ts';
import { ingestRouteSchema, type IngestQuery } from './schema.ts';

class TooLarge extends Error {}

const ingest: FastifyPluginAsync<{ maxUploadBytes: number; uploadDir?: string }> = async (fastify, opts) => {
  // Uploads are spooled beside the warehouse (<database>.uploads/), which only this process may
  // use (it holds DuckDB's lock): what a kill left there is stale, and removed at start.
  const uploads = opts.uploadDir ?? tmpdir();
  if (opts.uploadDir) {
    rmSync(opts.uploadDir, { recursive: true, force: true });
    mkdirSync(opts.uploadDir, { recursive: true });
  }
  // The body is streamed to a temp file, never buffered: exports run to gigabytes.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  fastify.post<{ Querystring: Static<typeof IngestQuery>; Body: Readable }>(
    '/api/ingest',
    { schema: ingestRouteSchema, preHandler: fastify.requireRole('admin'), bodyLimit: opts.maxUploadBytes },
    async (request, reply) => {
      const q = request.query;
      if (!builtInProfiles().includes(q.profile)) {
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/profile "${q.profile}" is not a built-in profile (${builtInProfiles().join(', ')})` });
      }
      if (q.timezone && !isValidTimeZone(q.timezone)) {
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/timezone "${q.timezone}" is not an IANA time zone` });
      }
      if (q.filename !== undefined && (q.filename.startsWith('.') || basename(q.filename) !== q.filename)) {
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/filename "${q.filename}" must be a plain file name` });
      }
      if (!request.body || typeof (request.body as Readable).pipe !== 'function') {
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'body: the upload is empty (send the file as the request body)' });
      }
      const profile = loadProfile(q.profile);
      if (q.timezone) profile.timezone = q.timezone;
      const name = q.filename ?? `upload.${profile.format ?? 'csv'}`;
      try {
        // Refuse a file type we cannot read before taking the upload.
        formatOf(profile, name);
      } catch (err) {
        if (err instanceof CivicError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/filename: ${err.message}` });
        throw err;
      }
      const dir = mkdtempSync(join(uploads, 'civic-upload-'));
      const file = join(dir, name);
      try {
        let bytes = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            cb(bytes > opts.maxUploadBytes ? new TooLarge() : null, chunk);
          },
        });
        await pipeline(request.body, limit, createWriteStream(file));
        if (bytes === 0) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'body: the upload is empty' });
        const r = await fastify.ingest.run(file, profile, { jurisdiction: q.jurisdiction });
        request.log.info({ batch: r.batch_id, read: r.read, loaded: r.loaded, rejected: r.rejected, warnings: r.warnings }, 'ingested upload');
        return r;
      } catch (err) {
        if (err instanceof TooLarge) return reply.code(413).send({ statusCode: 413, error: 'Payload Too Large', message: `body: the upload is over ${opts.maxUploadBytes} bytes` });
        // Everything the file got wrong (empty, not CSV, columns the profile lacks…) is the client's to fix: a 4xx
        // that says what, never a 500. The temp folder is ours, not the caller's: it leaves the message.
        if (err instanceof CivicError) {
          const message = err.message.replaceAll(`${dir}/`, '');
          const status = err.status;
          return reply.code(status).send({ statusCode: status, error: status === 400 ? 'Bad Request' : err.name, message: status < 500 ? `body: ${message}` : message });
        }
        throw err;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
};

export default ingest;
