// Scheduled reports over HTTP: definitions (admins create, replace and delete those stored in the
// warehouse; configuration ones are read-only), runs on demand, the record of every run and
// delivery, a retry that resends only to the recipients that failed, and the files — by run for
// staff, or by a signed expiring link for whoever an e-mail or webhook gave it to.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal } from '../../../warehouse/access/tokens.ts';
import { CivicError } from '../../../warehouse/errors.ts';
import { deleteStoredDefinition, getRun, getStoredDefinition, insertStoredDefinition, listRuns, updateStoredDefinition, type RunStatus } from '../../../warehouse/analytics/report-runs.ts';
import { checkDefinition, DefinitionError, publicDefinition, type ReportDefinitionFull } from '../../../reports/report-config.ts';
import { nextRunTimes } from '../../../reports/schedule.ts';
import { verifyFileLink } from '../../../reports/file-link.ts';
import type { ReportService } from '../../../reports/service.ts';
import {
  createDefinitionSchema,
  deleteDefinitionSchema,
  getDefinitionSchema,
  getRunSchema,
  listDefinitionsSchema,
  listRunsSchema,
  retryRunSchema,
  runFileSchema,
  runNowSchema,
  signedFileSchema,
  updateDefinitionSchema,
} from './schema.ts';

export interface ReportRoutesOptions { service: ReportService; linkKey: Buffer }

/** A manager runs and reads reports only within their agencies; a report of every agency (or public) is an admin's. */
function mayUse(p: Principal, def: Pick<ReportDefinitionFull, 'agencies'>): boolean {
  if (p.role === 'admin' || p.agencies === null) return true;
  return def.agencies !== null && def.agencies.every((a) => p.agencies!.includes(a));
}

const reportRoutes: FastifyPluginAsync<ReportRoutesOptions> = async (fastify, opts) => {
  const service = opts.service;
  const staff = fastify.requireRole('admin', 'manager');
  const admin = fastify.requireRole('admin');

  const view = async (def: ReportDefinitionFull) => {
    const timezone = def.timezone ?? (await fastify.jurisdiction()).timezone;
    return {
      ...publicDefinition(def),
      effective_timezone: timezone,
      next_runs: def.enabled && def.cron ? nextRunTimes(def.cron, timezone, 3).map((d) => d.toISOString()) : [],
      running_run: service.runner.runningRun(def.id),
    };
  };

  const visible = async (request: FastifyRequest, id: string) => {
    const def = await service.require(id);
    // Outside the caller's scope it is the same 404 as no report: its existence is not theirs to know.
    if (!mayUse(request.principal!, def)) throw new CivicError(`No report "${id}" (GET /api/reports lists them)`, { status: 404 });
    return def;
  };

  const checked = (body: unknown, prefix: string) => {
    try {
      return checkDefinition(body, prefix, service.checks(), 'api');
    } catch (err) {
      if (err instanceof DefinitionError) throw new CivicError(err.message.slice(err.key.length + 2), { status: 400, parameter: err.key.replaceAll('.', '/') });
      throw err;
    }
  };

  fastify.get('/api/reports', { schema: listDefinitionsSchema, preHandler: staff }, async (request) => {
    const defs = (await service.definitions()).filter((d) => mayUse(request.principal!, d));
    return { reports: await Promise.all(defs.map(view)) };
  });

  fastify.get<{ Params: { id: string } }>('/api/reports/:id', { schema: getDefinitionSchema, preHandler: staff }, async (request) => view(await visible(request, request.params.id)));

  fastify.post<{ Body: Record<string, unknown> }>('/api/reports', { schema: createDefinitionSchema, preHandler: admin }, async (request, reply) => {
    const def = checked(request.body, 'body');
    if (service.reservedIds().has(def.id)) throw new CivicError(`The id "${def.id}" is a configured or built-in report's; choose another`, { status: 409 });
    const { source: _s, parsed_recipients: _p, ...stored } = def;
    if (!(await insertStoredDefinition(service.o.wh, def.id, stored, request.principal!.name))) throw new CivicError(`A report "${def.id}" exists already (PUT /api/reports/${def.id} replaces it)`, { status: 409 });
    await service.scheduler.refresh();
    return reply.code(201).send(await view(def));
  });

  fastify.put<{ Params: { id: string }; Body: Record<string, unknown> }>('/api/reports/:id', { schema: updateDefinitionSchema, preHandler: admin }, async (request) => {
    const id = request.params.id;
    if (request.body.id !== undefined && request.body.id !== id) throw new CivicError(`"${String(request.body.id)}" differs from the path's "${id}" (an id cannot change: create a new report)`, { status: 400, parameter: 'body/id' });
    if (service.reservedIds().has(id)) throw new CivicError(`Report "${id}" comes from the configuration (or is built in): change civic.config.json instead`, { status: 409 });
    if (!(await getStoredDefinition(service.o.wh, id))) throw new CivicError(`No report "${id}" made through the API`, { status: 404 });
    const def = checked({ ...request.body, id }, 'body');
    const { source: _s, parsed_recipients: _p, ...stored } = def;
    await updateStoredDefinition(service.o.wh, id, stored, request.principal!.name);
    await service.scheduler.refresh();
    return view(def);
  });

  fastify.delete<{ Params: { id: string } }>('/api/reports/:id', { schema: deleteDefinitionSchema, preHandler: admin }, async (request, reply) => {
    const id = request.params.id;
    if (service.reservedIds().has(id)) throw new CivicError(`Report "${id}" comes from the configuration (or is built in): remove it from civic.config.json instead`, { status: 409 });
    if (!(await deleteStoredDefinition(service.o.wh, id))) throw new CivicError(`No report "${id}" made through the API`, { status: 404 });
    await service.scheduler.refresh();
    return reply.code(204).send();
  });

  fastify.post<{ Params: { id: string }; Querystring: { as_of?: string } }>('/api/reports/:id/run', { schema: runNowSchema, preHandler: staff }, async (request, reply) => {
    const def = await visible(request, request.params.id);
    const { run_id } = await service.runner.start(def, { trigger: 'api', requested_by: request.principal!.name, as_of: request.query.as_of });
    return reply.code(202).send({ run_id, report_id: def.id, status: 'running' as const, url: `/api/reports/runs/${run_id}` });
  });

  /** The report ids a manager may see runs of (null: every one). */
  const allowedReports = async (request: FastifyRequest) => {
    const p = request.principal!;
    if (p.role === 'admin' || p.agencies === null) return null;
    return (await service.definitions()).filter((d) => mayUse(p, d)).map((d) => d.id);
  };

  fastify.get<{ Querystring: { report?: string; status?: RunStatus; limit: number; offset: number } }>('/api/reports/runs', { schema: listRunsSchema, preHandler: staff }, async (request) => {
    return listRuns(service.o.wh, { ...request.query, reports: await allowedReports(request) });
  });

  const runOf = async (request: FastifyRequest, runId: string) => {
    const run = await getRun(service.o.wh, runId);
    const allowed = await allowedReports(request);
    if (!run || (allowed && !allowed.includes(run.report_id))) throw new CivicError(`No run ${runId}`, { status: 404 });
    return run;
  };

  fastify.get<{ Params: { run_id: string } }>('/api/reports/runs/:run_id', { schema: getRunSchema, preHandler: staff }, async (request) => runOf(request, request.params.run_id));

  fastify.post<{ Params: { run_id: string } }>('/api/reports/runs/:run_id/retry', { schema: retryRunSchema, preHandler: staff }, async (request, reply) => {
    const run = await runOf(request, request.params.run_id);
    const def = await visible(request, run.report_id);
    const r = await service.runner.retry(run.run_id, def, request.principal!.name);
    return reply.code(202).send({ run_id: r.run_id, retry_of: run.run_id, recipients: r.recipients, status: 'running' as const, url: `/api/reports/runs/${r.run_id}` });
  });

  const sendFile = (reply: import('fastify').FastifyReply, runId: string, name: string, contentType: string, bytes: number) => {
    const path = join(service.runner.archiveDir(runId), name);
    if (!existsSync(path)) throw new CivicError(`The file ${name} of run ${runId} is no longer kept`, { status: 404 });
    return reply
      .header('content-type', contentType)
      .header('content-length', String(bytes))
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
      .header('cache-control', 'private, no-store')
      .send(createReadStream(path));
  };

  fastify.get<{ Params: { run_id: string; name: string } }>('/api/reports/runs/:run_id/files/:name', { schema: runFileSchema, preHandler: staff }, async (request, reply) => {
    const run = await runOf(request, request.params.run_id);
    // Only a name the run recorded: never a path from the request.
    const file = run.files.find((f) => f.name === request.params.name);
    if (!file) throw new CivicError(`Run ${run.run_id} has no file "${request.params.name}" (it has ${run.files.map((f) => f.name).join(', ') || 'none'})`, { status: 404 });
    return sendFile(reply, run.run_id, file.name, file.content_type, file.bytes);
  });

  fastify.get<{ Params: { token: string } }>('/api/reports/files/:token', { schema: signedFileSchema, config: { access: 'public' } }, async (request, reply) => {
    const check = verifyFileLink(request.params.token, opts.linkKey);
    if (!check.ok) {
      const why = check.reason === 'expired' ? `expired at ${check.expired_at}; ask for the report again` : check.reason === 'signature' ? 'has been changed' : 'is incomplete';
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `This download link ${why}.` });
    }
    const run = await getRun(service.o.wh, check.claims.run);
    const file = run?.files[check.claims.file];
    if (!run || !file) throw new CivicError('The file of this link is no longer kept', { status: 404 });
    return sendFile(reply, run.run_id, file.name, file.content_type, file.bytes);
  });
};

export default reportRoutes;
