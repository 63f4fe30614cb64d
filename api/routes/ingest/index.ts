import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { builtInProfiles, loadProfile } from '../../../ingest/profile.ts';
import { isValidTimeZone } from '../../../ingest/time-zone.ts';
import { ingestRouteSchema, type IngestQuery } from './schema.ts';

class TooLarge extends Error {}

const ingest: FastifyPluginAsync<{ maxUploadBytes: number }> = async (fastify, opts) => {
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
      const dir = mkdtempSync(join(tmpdir(), 'civic-upload-'));
      const file = join(dir, q.filename ?? `upload.${profile.format ?? 'csv'}`);
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
        const r = await fastify.ingest.run(file, profile);
        request.log.info({ batch: r.batch_id, read: r.read, loaded: r.loaded, rejected: r.rejected }, 'ingested upload');
        return r;
      } catch (err) {
        if (err instanceof TooLarge) return reply.code(413).send({ statusCode: 413, error: 'Payload Too Large', message: `body: the upload is over ${opts.maxUploadBytes} bytes` });
        const name = (err as Error).name;
        if (['MappingError', 'SourceFormatError', 'ProfileError'].includes(name)) {
          return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `body: ${(err as Error).message.replace(dir + '/', '')}` });
        }
        throw err;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
};

export default ingest;
