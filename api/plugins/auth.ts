// Who is calling, and who may call what. Enforced here, on the server, whatever the dashboard shows.
//
// The caller (request.principal) comes from, in order: an `Authorization: Bearer` API token
// (civic token create; it may be expired or revoked) or OpenID Connect JWT (auth.oidc), else the
// dashboard's signed session cookie. Every route declares its access — `public`, `staff` (admin,
// manager or planner) or `admin` — with `config: { access }` or `fastify.requireRole(…)`; a route
// under /api/ that declares nothing is staff (closed by default), except /api/public/*. The
// declaration installs the check and shows in the OpenAPI document (security, x-access, 401/403).
// A caller limited to agencies sees only their cases: routes pass `scopeOf(request)` to the
// analyses, which apply it in the one place that builds case predicates.
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { checkToken, STAFF_ROLES, type Principal, type Role } from '../../warehouse/access/tokens.ts';
import { checkSession } from '../../warehouse/access/sessions.ts';
import type { CaseScope } from '../../warehouse/queries/case-predicates.ts';
import type { OidcConfig } from '../config.ts';
import { ErrorResponse } from '../schemas/common.ts';
import { looksLikeJwt, OidcVerifier } from './oidc.ts';
import { SESSION_COOKIE } from './session.ts';
import { isServerCredential } from '../tokens.ts';

export type Access = 'public' | 'staff' | 'admin';
export const ACCESS_ROLES: Record<Access, readonly Role[]> = { public: [], staff: STAFF_ROLES, admin: ['admin'] };

/** Why a request has no principal, when it tried to have one. */
export interface AuthProblem { status: 401 | 403; message: string }

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    authProblem: AuthProblem | null;
  }
  interface FastifyInstance {
    requireRole: (...roles: Role[]) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** OpenID Connect verification, when auth.oidc is configured. */
    oidc: OidcVerifier | null;
    /** How long a dashboard sign-in lasts. */
    sessionHours: number;
  }
  interface FastifyContextConfig {
    /** Who may call the route: public, staff (admin, manager, planner) or admin. */
    access?: Access;
    /** Record calls in the audit log even though the route is public (sign-in, sign-out). */
    audit?: boolean;
    /** Record the request body in the audit log (only for bodies that hold no secret). */
    audit_body?: boolean;
  }
}

export interface AuthOptions {
  /** Signs the session cookie. */
  sessionSecret: string;
  sessionHours: number;
  oidc: OidcConfig | null;
}

/** The caller's agency scope, for the analyses: null = every agency. */
export function scopeOf(request: FastifyRequest): CaseScope {
  return { agencies: request.principal?.agencies ?? null };
}

const ROLES_TAG = Symbol('civic.roles');
type Guard = ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) & { [ROLES_TAG]?: readonly Role[] };

const credentialWord = (p: Principal) => (p.via === 'session' ? 'the session' : p.via === 'oidc' ? 'the identity' : 'the token');

const NO_CREDENTIAL = 'This needs a token or a dashboard session: Authorization: Bearer <token> (civic token create), or sign in at /signin.';

function guard(roles: readonly Role[]): Guard {
  const check: Guard = async (request, reply) => {
    const p = request.principal;
    if (!p) {
      const problem = request.authProblem ?? { status: 401 as const, message: NO_CREDENTIAL };
      if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
      return reply.code(problem.status).send({ statusCode: problem.status, error: problem.status === 401 ? 'Unauthorized' : 'Forbidden', message: problem.message });
    }
    if (!roles.includes(p.role)) {
      const needed = roles.length > 1 ? `${roles.slice(0, -1).join(', ')} or ${roles.at(-1)}` : roles[0];
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `This needs the role ${needed}; ${credentialWord(p)} has ${p.role}.` });
    }
  };
  check[ROLES_TAG] = roles;
  return check;
}

const accessOfRoles = (roles: readonly Role[]): Access => (roles.length === 1 && roles[0] === 'admin' ? 'admin' : 'staff');

const ACCESS_TEXT: Record<Access, string> = {
  public: 'Access: public — no credential needed.',
  staff: 'Access: staff — an admin, manager or planner token, OpenID Connect identity or dashboard session (401 without one, 403 for a public token). A caller limited to agencies sees only their cases.',
  admin: 'Access: admin — an admin token, OpenID Connect identity or dashboard session.',
};

export default fp<AuthOptions>(
  async (fastify, opts) => {
    await fastify.register(cookie, { secret: opts.sessionSecret, hook: 'onRequest' });
    fastify.decorate('oidc', opts.oidc ? new OidcVerifier(opts.oidc) : null);
    fastify.decorate('sessionHours', opts.sessionHours);
    fastify.decorateRequest('principal', null);
    fastify.decorateRequest('authProblem', null);

    /** The caller an Authorization header names, or why it names none. */
    const bearerPrincipal = async (header: string): Promise<{ principal: Principal } | AuthProblem> => {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) return { status: 401, message: 'The Authorization header must read "Bearer <token>".' };
      if (looksLikeJwt(m[1])) {
        if (!fastify.oidc) return { status: 401, message: 'This server does not accept OpenID Connect tokens (auth.oidc is not configured); use an API token.' };
        return fastify.oidc.verify(m[1]);
      }
      const r = await checkToken(fastify.warehouse, m[1]);
      if ('principal' in r) return r;
      return { status: 401, message: { unknown: 'The token is not valid (unknown).', revoked: 'The token was revoked.', expired: 'The token has expired: ask an admin for a new one (civic token create).' }[r.reason] };
    };

    fastify.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization;
      if (header !== undefined) {
        // A credential that was sent must be good, whatever the route: a bad, expired or revoked
        // token is refused even where no token is needed, so a client learns it at once instead
        // of silently reading the public answer. (A stale session cookie is not: a signed-out
        // browser must still reach the sign-in page and the public pages.)
        const r = await bearerPrincipal(header);
        if ('principal' in r) {
          request.principal = r.principal;
          return;
        }
        request.authProblem = r;
        // A valid identity this server gives no role (a 403) is anonymous where no role is needed.
        if (r.status !== 401) return;
        // The server's local admin key is no API token, but it is this server's: the routes that
        // take it (api/tokens.ts) decide; elsewhere the caller is refused or anonymous as usual.
        if (isServerCredential(fastify, header.replace(/^Bearer\s+/i, ''))) return;
        reply.header('www-authenticate', 'Bearer');
        return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: r.message });
      }
      const raw = request.cookies[SESSION_COOKIE];
      if (!raw) return;
      const unsigned = request.unsignCookie(raw);
      if (!unsigned.valid || !unsigned.value) {
        request.authProblem = { status: 401, message: 'The session cookie is not valid (changed, or signed with another secret): sign in again at /signin.' };
        return;
      }
      const r = await checkSession(fastify.warehouse, unsigned.value);
      if (!('principal' in r)) {
        request.authProblem = { status: 401, message: { unknown: 'The session is not known: sign in again at /signin.', ended: 'The session was signed out: sign in again at /signin.', expired: 'The session has expired: sign in again at /signin.', credential: 'The token this session was made from was revoked or has expired: sign in again at /signin.' }[r.reason] };
        return;
      }
      // SameSite=Strict keeps other sites from sending the cookie; a cross-site write is refused here as well.
      if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method) && fromAnotherSite(request)) {
        request.authProblem = { status: 403, message: 'A request from another site cannot use the dashboard session.' };
        return;
      }
      request.principal = r.principal;
    });

    fastify.decorate('requireRole', (...roles: Role[]) => guard(roles));

    // Every route's access: declared, or implied by its path; the check and the OpenAPI entry follow from it.
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const url = route.url;
      const handlers = [route.preHandler].flat().filter(Boolean) as Guard[];
      const tagged = handlers.find((h) => h[ROLES_TAG])?.[ROLES_TAG];
      let access = route.config?.access ?? (tagged ? accessOfRoles(tagged) : undefined);
      if (!access) {
        if (!url.startsWith('/api/') && !url.startsWith('/open311/')) return; // the dashboard's files, /docs
        access = url.startsWith('/api/') && !url.startsWith('/api/public/') ? 'staff' : 'public';
      }
      route.config = { ...route.config, access };
      // Checked before the parameters are validated: an anonymous caller learns nothing from a route but "sign in".
      if (access !== 'public') {
        route.preHandler = handlers.filter((h) => !h[ROLES_TAG]);
        route.preValidation = [guard(tagged ?? ACCESS_ROLES[access]), ...[route.preValidation ?? []].flat()];
      }
      const schema = (route.schema ?? {}) as Record<string, unknown> & { response?: Record<string, unknown>; description?: string };
      const response = schema.response ? { ...schema.response } : undefined;
      if (response && access !== 'public') {
        response[401] ??= ErrorResponse;
        response[403] ??= ErrorResponse;
      }
      route.schema = {
        ...schema,
        ...(response ? { response } : {}),
        description: schema.description ? `${schema.description}\n\n${ACCESS_TEXT[access]}` : ACCESS_TEXT[access],
        security: access === 'public' ? [] : [{ bearer: [] }, { session: [] }],
        'x-access': access,
      } as RouteOptions['schema'];
    });
  },
  { name: 'auth', dependencies: ['warehouse'] },
);

/**
 * A request a page of another site made (the browser says so with Sec-Fetch-Site or an Origin of
 * another host). Writes that rely on the session cookie, and sign-in, refuse it.
 */
export function fromAnotherSite(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    const o = new URL(origin);
    return o.host !== new URL(`${o.protocol}//${request.headers.host ?? ''}`).host;
  } catch {
    return true;
  }
}
