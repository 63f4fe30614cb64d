// What every request and response passes through before any route: security headers (helmet,
// with a content security policy the built dashboard works under), a per-address rate limit on
// the public API, and limits on the URL and the body, each refused with a status and a message
// that names the limit.
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CivicError } from '../../warehouse/errors.ts';

export interface SecurityLimits {
  /** Requests a minute one client address may make to the public API (`/api/public/*`, `/open311/*`). */
  public_per_minute: number;
  /** The longest URL (path and query) accepted; longer is a 414. */
  max_url_length: number;
  /** The largest request body a route takes unless it sets its own `bodyLimit` (the ingest upload does), in KiB. */
  max_body_kb: number;
}

export const DEFAULT_SECURITY_LIMITS: Readonly<SecurityLimits> = { public_per_minute: 120, max_url_length: 4096, max_body_kb: 64 };

/** Fastify's cap on one path parameter (api/app.ts FASTIFY_OPTIONS): its router answers a longer one with a 414 naming it. */
export const MAX_PARAM_LENGTH = 200;

/** Routes anyone may call without a token, and so the ones rate-limited per client address. */
export const PUBLIC_PREFIXES = ['/api/public/', '/open311/'] as const;
export const isPublicRoute = (url: string) => PUBLIC_PREFIXES.some((p) => url.startsWith(p));

/** Pages that other sites may show in a frame (the public embeds); everything else only on this site. */
const EMBED_PREFIX = '/embed';

export interface SecurityOptions {
  limits?: Partial<SecurityLimits>;
  /** The built dashboard: its inline bootstrap scripts are allowed by hash, nothing else inline. */
  dashboardDir?: string;
  /** Sites that may show /embed pages in a frame (config embed.frame_ancestors); default any. */
  frameAncestors?: readonly string[];
}

/** `'sha256-…'` sources for every inline <script> in the built pages (SvelteKit's bootstrap). */
export function inlineScriptHashes(dir: string | undefined): string[] {
  if (!dir || !existsSync(dir)) return [];
  const hashes = new Set<string>();
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '_app') visit(p);
      } else if (e.name.endsWith('.html')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/<script(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi)) {
          hashes.add(`'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
        }
      }
    }
  };
  visit(dir);
  return [...hashes].sort();
}

/**
 * The content security policy: scripts only from this server (plus the dashboard's own inline
 * bootstrap, by hash); no eval (Vega is drawn with its expression interpreter, see
 * dashboard/src/lib/components/VegaLite.svelte); styles from this server or inline (Svelte and
 * Vega set style attributes); data only from this server.
 */
export function cspDirectives(scriptHashes: readonly string[]): Record<string, string[] | null> {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'script-src': ["'self'", ...scriptHashes],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'self'"],
    // The server may well run on plain HTTP inside a city network: do not force https for its own files.
    'upgrade-insecure-requests': null,
  };
}

/** Where the first number that is not finite sits in a parsed query or JSON body (`querystring/limit`), if any. */
function nonFinite(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) || Number.isNaN(value) ? undefined : path;
  if (value === null || typeof value !== 'object' || depth > 32 || typeof (value as { pipe?: unknown }).pipe === 'function' || Buffer.isBuffer(value)) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const found = nonFinite(v, `${path}/${k}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

class SecurityLimitError extends CivicError {
  constructor(message: string, status: number, name: string, parameter?: string) {
    super(message, { status, parameter });
    this.name = name;
  }
}

export default fp<SecurityOptions>(
  async (fastify, opts) => {
    const limits: SecurityLimits = { ...DEFAULT_SECURITY_LIMITS, ...Object.fromEntries(Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined)) };
    const maxBody = limits.max_body_kb * 1024;

    // Before any route: a route without a body limit of its own gets ours, and only the public
    // API is rate-limited (rate-limit's own onRoute hook, registered next, reads `rateLimit`).
    fastify.addHook('onRoute', (route) => {
      if (route.bodyLimit === undefined) route.bodyLimit = maxBody;
      if (!isPublicRoute(route.url ?? route.path ?? '')) route.config = { ...(route.config as object | undefined), rateLimit: false } as typeof route.config;
    });

    // Cheap checks first, before anything reads the URL's parameters or the body.
    fastify.addHook('onRequest', async (request: FastifyRequest) => {
      const url = request.raw.url ?? '';
      if (url.length > limits.max_url_length) {
        throw new SecurityLimitError(`The URL has ${url.length.toLocaleString('en-US')} characters; at most ${limits.max_url_length.toLocaleString('en-US')} are accepted (limits.max_url_length). Send fewer or shorter parameters.`, 414, 'URI Too Long');
      }
      const length = Number(request.headers['content-length']);
      const bodyLimit = request.routeOptions.bodyLimit ?? maxBody;
      if (Number.isFinite(length) && length > bodyLimit) {
        throw new SecurityLimitError(`body: ${length.toLocaleString('en-US')} bytes is more than this route takes (${bodyLimit.toLocaleString('en-US')} bytes${bodyLimit === maxBody ? ', limits.max_body_kb' : ''}).`, 413, 'Payload Too Large');
      }
    });

    // JSON Schema's integer and maximum let ±Infinity through ("1e309" coerces to it, and so does a
    // JSON body's 1e999): after validation, a number that is not finite is a 400 naming the parameter.
    fastify.addHook('preHandler', async (request) => {
      for (const [where, value] of [['querystring', request.query], ['body', request.body]] as const) {
        const bad = nonFinite(value, where, 0);
        if (bad) throw new SecurityLimitError(`${bad.slice(bad.lastIndexOf('/') + 1)} must be a finite number`, 400, 'Bad Request', bad);
      }
    });

    await fastify.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(inlineScriptHashes(opts.dashboardDir)) },
    });
    // The embeds are meant to be shown in a frame on other sites (a city's own pages): which ones is configured.
    const frameAncestors = (opts.frameAncestors ?? ['*']).join(' ');
    fastify.addHook('onSend', async (request, reply) => {
      if (!request.url.startsWith(EMBED_PREFIX)) return;
      const path = request.url.split('?', 1)[0];
      if (path !== EMBED_PREFIX && !path.startsWith(`${EMBED_PREFIX}/`)) return;
      reply.raw.removeHeader('x-frame-options');
      const csp = reply.raw.getHeader('content-security-policy');
      if (typeof csp === 'string') reply.raw.setHeader('content-security-policy', csp.replace("frame-ancestors 'self'", `frame-ancestors ${frameAncestors}`));
    });

    await fastify.register(rateLimit, {
      global: true, // every route rate-limit sees; the onRoute hook above leaves it only the public ones
      max: limits.public_per_minute,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) =>
        new SecurityLimitError(
          `Too many requests: the public API takes ${limits.public_per_minute} a minute from one address (limits.public_per_minute). Try again in ${context.after}.`,
          context.statusCode,
          'Too Many Requests',
        ),
    });
  },
  { name: 'security' },
);
