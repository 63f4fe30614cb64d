// Who read staff data: every request to a staff or admin route by an identified caller (refused
// ones too, with their status) and every sign-in and sign-out becomes a row of the audit log —
// principal and scope, route and the parameters as sent, status, rows returned, time taken.
// Written after the response has gone, so a read is not slowed by its own audit; GET /api/audit
// and closing the app wait for the writes still under way.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAudits, type AuditEntry } from '../../warehouse/access/audit.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Rows in the answer, counted on the way out (null: not a table). */
    auditRows: number | null;
  }
  interface FastifyInstance {
    /** Waits for the audit rows still being written. */
    auditFlush: () => Promise<void>;
  }
}

const audited = (request: FastifyRequest) => {
  const config = request.routeOptions.config;
  return config.audit === true || config.access === 'staff' || config.access === 'admin';
};

/** The size of the table an answer holds: rows, GeoJSON features, findings, areas, tokens or audit entries. */
export function countRows(payload: unknown): number | null {
  if (payload === null || typeof payload !== 'object') return null;
  const o = payload as Record<string, unknown>;
  if (Array.isArray(o.trends) && Array.isArray(o.anomalies)) return o.trends.length + o.anomalies.length;
  for (const key of ['rows', 'features', 'areas', 'tokens', 'entries', 'services']) if (Array.isArray(o[key])) return (o[key] as unknown[]).length;
  return null;
}

/** Records in a CSV text with a header row (quoted fields may hold line breaks). */
export function csvRecords(text: string): number {
  let records = 0;
  let quoted = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      records++;
      any = false;
      continue;
    } else if (c !== '\r') any = true;
  }
  if (any) records++;
  return Math.max(0, records - 1);
}

/** The parameters as the caller sent them (not the schema's defaults), path parameters included. */
function parametersOf(request: FastifyRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const q = request.url.indexOf('?');
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(request.url.slice(q + 1))) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  Object.assign(out, request.params as object);
  const body = request.body;
  if (request.routeOptions.config.audit_body && body && typeof body === 'object' && !Array.isArray(body)) out.body = body;
  return out;
}

/** At most this many rows a statement (13 bound values each). */
const AUDIT_ROWS_PER_WRITE = 200;

export default fp(
  async (fastify) => {
    // Rows wait while the last write runs, then go in one statement: no wait when the server is
    // quiet, and one INSERT per write's time (not per request) when it is busy. One loop drains
    // the queue (no chain of promises that grows while the load lasts); a flush waits for the
    // rows queued before it, not for a queue that never empties under steady load.
    const queued: { entry: AuditEntry; log: FastifyRequest['log'] }[] = [];
    let queuedTotal = 0;
    let writtenTotal = 0;
    let draining: Promise<void> | null = null;
    const waiting: { upTo: number; resolve: () => void }[] = [];
    const writeBatch = async (batch: typeof queued) => {
      try {
        await recordAudits(fastify.warehouse, batch.map((q) => q.entry));
      } catch (err) {
        // One bad row must not cost the others theirs: each is tried alone.
        if (batch.length === 1) {
          batch[0].log.error({ err }, 'could not write the audit row');
          return;
        }
        for (const q of batch) await writeBatch([q]);
      }
    };
    // Never throws: writeBatch keeps every failure to the log.
    const drain = async () => {
      while (queued.length) {
        const batch = queued.splice(0, AUDIT_ROWS_PER_WRITE);
        await writeBatch(batch);
        writtenTotal += batch.length;
        for (let i = waiting.length - 1; i >= 0; i--) {
          if (waiting[i].upTo <= writtenTotal) waiting.splice(i, 1)[0].resolve();
        }
      }
      draining = null;
    };
    const enqueue = (entry: AuditEntry, log: FastifyRequest['log']) => {
      queued.push({ entry, log });
      queuedTotal++;
      if (!draining) draining = drain();
    };
    fastify.decorate('auditFlush', async () => {
      if (writtenTotal >= queuedTotal) return;
      await new Promise<void>((resolve) => waiting.push({ upTo: queuedTotal, resolve }));
    });
    fastify.decorateRequest('auditRows', null);

    fastify.addHook('preSerialization', async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
      if (audited(request)) request.auditRows = countRows(payload);
      return payload;
    });
    fastify.addHook('onSend', async (request, reply, payload) => {
      if (audited(request) && request.auditRows === null && typeof payload === 'string' && String(reply.getHeader('content-type') ?? '').startsWith('text/csv')) {
        request.auditRows = csvRecords(payload);
      }
      return payload;
    });
    fastify.addHook('onResponse', async (request, reply) => {
      const p = request.principal;
      if (!p || !audited(request)) return;
      enqueue({
        at: new Date(Date.now() - reply.elapsedTime).toISOString(),
        request_id: String(request.id),
        principal_id: p.token_id,
        principal_name: p.name,
        role: p.role,
        agencies: p.agencies,
        via: p.via ?? 'token',
        method: request.method,
        route: request.routeOptions.url ?? request.url.split('?')[0],
        parameters: parametersOf(request),
        status: reply.statusCode,
        rows_returned: reply.statusCode < 400 ? request.auditRows : null,
        duration_ms: reply.elapsedTime,
      }, request.log);
    });
    fastify.addHook('preClose', async () => fastify.auditFlush());
    fastify.addHook('onClose', async () => fastify.auditFlush());
  },
  { name: 'audit', dependencies: ['warehouse', 'auth'] },
);
