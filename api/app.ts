// The Fastify app as a plugin: it never listens (api/server.ts does), so tests use app.inject().
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { existsSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Warehouse } from '../warehouse/db.ts';
import { CivicError } from '../warehouse/errors.ts';
import { validationMessage } from './validation-message.ts';
import dimensions from './routes/dimensions/index.ts';
import measures from './routes/measures/index.ts';
import type { Config } from './config.ts';
import warehousePlugin from './plugins/warehouse.ts';
import security, { MAX_PARAM_LENGTH } from './plugins/security.ts';
import jurisdictionPlugin from './plugins/jurisdiction.ts';
import health from './routes/health/index.ts';
import kpis from './routes/kpis/index.ts';
import ingestRoute from './routes/ingest/index.ts';
import trends from './routes/trends/index.ts';
import hotspots from './routes/hotspots/index.ts';
import equity from './routes/equity/index.ts';
import auth from './plugins/auth.ts';
import audit from './plugins/audit.ts';
import { sessionSecret } from './plugins/session.ts';
import { embedKey } from './embed-token.ts';
import { DEFAULT_POLICY } from '../warehouse/privacy/policy.ts';
import type { ReportService } from '../reports/service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Report definitions, runs and the schedule (reports/service.ts); server.ts starts the schedule. */
    reports: ReportService;
  }
}

export interface AppOptions {
  warehouse: Warehouse;
  config: Pick<Config, 'timezone' | 'jurisdiction'> & Partial<Pick<Config, 'ingest' | 'auth' | 'database'>>;
  /** Folder of the built dashboard; defaults to dashboard/build. */
  dashboardDir?: string;
  /** What one request may cost; default: the config's `limits` when the whole configuration is passed (server.ts does), else config.ts's defaults. */
  limits?: Partial<Config['limits']>;
  /** Report delivery attempts after the first, and the first wait (tests shorten them). */
  reportDelivery?: { retries?: number; backoffMs?: number };
}

export const DEFAULT_DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboard', 'build');

/** `querystring/from` + `from "x" is not a date` → `querystring/from "x" is not a date`, as the schema's own errors read. */
function locate(parameter: string, message: string): string {
  const slash = parameter.lastIndexOf('/');
  const name = parameter.slice(slash + 1);
  return message.startsWith(name) ? `${parameter.slice(0, slash + 1)}${message}` : `${parameter}: ${message}`;
}

/** The parameters a route's schema names (for "did you mean"), with their descriptions. */
function knownParameters(schema: unknown, context: string): Record<string, { description?: string }> {
  const part = (schema as Record<string, { properties?: Record<string, { description?: string }> }> | undefined)?.[context];
  return part?.properties ?? {};
}

/**
 * Options for the Fastify instance the app is registered on (server and tests alike): schemas
 * reject unknown parameters instead of silently dropping them (Fastify's default), so a typo in
 * a filter is a 400, not an answer about every case. Registering the app (every route's schemas
 * compiled, the dashboard's files hashed for its CSP) takes a second or two, but on a busy machine
 * (load average 7 on 2 cores) it passed Fastify's default 10 s plugin timeout and the server
 * refused to start: it may take up to two minutes.
 */
export const FASTIFY_OPTIONS = { ajv: { customOptions: { removeAdditional: false as const } }, routerOptions: { maxParamLength: MAX_PARAM_LENGTH }, pluginTimeout: 120_000 };

const app: FastifyPluginAsync<AppOptions> = async (fastify, opts) => {
  // One error handler: client errors say what was wrong; server errors hide their details.
  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    // A busy or overlong query (warehouse/db.ts) is a 503 whose message says what to narrow; every other 5xx hides its details.
    if (status === 503 && err instanceof CivicError) {
      const retry = (err as CivicError & { retryAfterSeconds?: number }).retryAfterSeconds;
      if (retry) reply.header('retry-after', String(retry));
      return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: err.message });
    }
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.code(status).send({ statusCode: status, error: 'Internal Server Error', message: `Something went wrong on our side (request ${request.id}).` });
    }
    const context = err.validationContext ?? 'request';
    const input = context === 'querystring' ? request.query : context === 'params' ? request.params : context === 'headers' ? request.headers : request.body;
    const message = err.validation
      ? validationMessage(context, err.validation, input, knownParameters(request.routeOptions.schema, context))
      : // Our own errors say where the bad value was (a date that is no date, an unknown area…).
        err instanceof CivicError && err.parameter ? locate(err.parameter, err.message) : err.message;
    // Our own errors carry their name; Fastify's (415, 413, …) the status's reason phrase, not "FastifyError".
    const error = status === 400 ? 'Bad Request' : err instanceof CivicError ? err.name : (STATUS_CODES[status] ?? 'Error');
    return reply.code(status).send({ statusCode: status, error, message });
  });

  const limits = opts.limits ?? (opts.config as Partial<Pick<Config, 'limits'>>).limits;
  // Headers, rate limits and URL/body limits, before any route is added.
  await fastify.register(security, { limits, dashboardDir: opts.dashboardDir ?? DEFAULT_DASHBOARD_DIR, frameAncestors: (opts.config as Partial<Pick<Config, 'embed'>>).embed?.frame_ancestors });
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token (civic token create), or an OpenID Connect identity token (JWT) where auth.oidc is configured' },
          session: { type: 'apiKey', in: 'cookie', name: 'civic_session', description: 'The dashboard session (POST /api/session signs in)' },
        },
      },
      info: { title: 'Civic Pulse API', version: '0.1.0', description: `311 / CRM analytics. Times are UTC; days and weeks are cut in the jurisdiction's time zone (GET /api/health says which).` },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });
  await fastify.register(warehousePlugin, { warehouse: opts.warehouse, limits });
  const secret = sessionSecret(opts.config.auth?.session_secret ?? null, opts.config.database ?? ':memory:');
  await fastify.register(auth, {
    sessionSecret: secret,
    sessionHours: opts.config.auth?.session_hours ?? 8,
    oidc: opts.config.auth?.oidc ?? null,
  });
  await fastify.register(audit);
  await fastify.register(jurisdictionPlugin, { jurisdiction: opts.config.jurisdiction, timezone: opts.config.timezone });
  await fastify.register(health);
  await fastify.register(kpis);
  await fastify.register(trends);
  await fastify.register(hotspots);
  await fastify.register(equity, { minDenominator: (opts.config as Partial<Pick<Config, 'display'>>).display?.min_denominator });
  await fastify.register(dimensions);
  await fastify.register(measures, { minDenominator: (opts.config as Partial<Pick<Config, 'display'>>).display?.min_denominator });
  await fastify.register(ingestRoute, {
    maxUploadBytes: (opts.config.ingest?.max_upload_mb ?? 1024) * 1024 * 1024,
    uploadDir: opts.warehouse.path === ':memory:' ? undefined : `${opts.warehouse.path}.uploads`,
  });
  await fastify.register(import('./routes/tokens/index.ts'));
  await fastify.register(import('./routes/rejects/index.ts'));
  await fastify.register(import('./routes/public/index.ts'), { disclosure: (opts.config as Partial<Pick<Config, 'disclosure'>>).disclosure });
  // Staff embeds: links signed with a key of their own, derived from the session secret.
  const embed = { key: embedKey(secret), targets: (opts.config as Partial<Pick<Config, 'targets'>>).targets, minDenominator: (opts.config as Partial<Pick<Config, 'display'>>).display?.min_denominator };
  await fastify.register(import('./routes/public-pages/index.ts'), { disclosure: (opts.config as Partial<Pick<Config, 'disclosure'>>).disclosure, targets: embed.targets, embedKey: embed.key, minDenominator: embed.minDenominator });
  await fastify.register(import('./routes/embed-tokens/index.ts'), embed);
  await fastify.register(import('./routes/session/index.ts'));
  await fastify.register(import('./routes/audit/index.ts'));
  await fastify.register(import('./routes/contact-centre/index.ts'));
  await fastify.register(import('./routes/cases/index.ts'));
  const judging = opts.config as Partial<Pick<Config, 'targets' | 'display'>>;
  await fastify.register(import('./routes/overview/index.ts'), { targets: judging.targets, minDenominator: judging.display?.min_denominator });
  await fastify.register(import('./routes/forecast/index.ts'));
  await fastify.register(import('./routes/survival/index.ts'));
  await fastify.register(import('./routes/whatif/index.ts'), { crews: (opts.config as Partial<Pick<Config, 'crews'>>).crews });
  await fastify.register(import('./routes/map/index.ts'), { minDenominator: judging.display?.min_denominator });
  await fastify.register(import('./routes/repeat-locations/index.ts'));
  await fastify.register(import('./routes/open311/index.ts'), { disclosure: (opts.config as Partial<Pick<Config, 'disclosure'>>).disclosure });
  // Scheduled reports: runs on connections of their own (a 20-page report must not hold the
  // API's), links signed with a key derived from the session secret; server.ts starts the schedule.
  {
    const { ReportService } = await import('../reports/service.ts');
    const { fileLinkKey } = await import('../reports/file-link.ts');
    const reportsConfig = (opts.config as Partial<Pick<Config, 'reports'>>).reports;
    const runsWh = await opts.warehouse.readers({ connections: 2, timeoutMs: 30 * 60_000, maxQueryRows: 100_000_000, maxRows: 10_000_000, maxCells: 1_000_000_000 });
    fastify.addHook('onClose', async () => {
      await reportService.stop().catch(() => undefined);
      runsWh.close();
    });
    const linkKey = fileLinkKey(secret);
    const reportService = new ReportService({
      wh: runsWh,
      reports: reportsConfig ?? { out_dir: join(opts.warehouse.path === ':memory:' ? tmpdir() : dirname(opts.warehouse.path), 'reports'), schedules: [], definitions: [], smtp: null, public_url: null, webhook_secret: null, link_hours: 168 },
      linkKey,
      context: async () => {
        const j = await fastify.jurisdiction();
        const c = opts.config as Partial<Pick<Config, 'targets' | 'display' | 'disclosure'>>;
        return { jurisdiction: j.name, timezone: j.timezone, targets: c.targets, min_denominator: c.display?.min_denominator, disclosure: c.disclosure ? { ...DEFAULT_POLICY, ...c.disclosure } : undefined };
      },
      log: fastify.log,
      ...opts.reportDelivery,
    });
    fastify.decorate('reports', reportService);
    await fastify.register(import('./routes/reports/index.ts'), { service: reportService, linkKey });
  }
  await fastify.register(import('./routes/alerts/index.ts'));

  const dashboardDir = opts.dashboardDir ?? DEFAULT_DASHBOARD_DIR;
  const hasDashboard = existsSync(dashboardDir);
  if (hasDashboard) await fastify.register(fastifyStatic, { root: dashboardDir, prefix: '/', wildcard: true, extensions: ['html'] });
  else fastify.log.warn(`dashboard not built (${dashboardDir} missing): run "npm run build"; the API still works`);
  // Client-side routes the static build did not prerender fall back to the app shell; anything
  // else is a JSON 404 in the same shape as every other error.
  fastify.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const isPage = request.method === 'GET' && !path.startsWith('/api/') && !/\.[a-z0-9]+$/i.test(path);
    if (hasDashboard && isPage && existsSync(join(dashboardDir, '200.html'))) return reply.type('text/html').sendFile('200.html');
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No route ${request.method} ${path}` });
  });
};

// Not encapsulated: the process that registers the app (server.ts, tests) uses its decorators
// (`warehouse`, `ingest`) for the inbox and the scheduler.
export default fp(app, { name: 'civic-app' });
