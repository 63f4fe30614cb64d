// The dashboard's sign-in: POST /api/session exchanges an API token (or, with auth.oidc, an
// identity token) for a session cookie; DELETE /api/session signs out; GET /api/session says who
// is signed in. The cookie is signed, HttpOnly and SameSite=Strict, and the session ends after
// auth.session_hours (or when the token it came from expires or is revoked, if sooner).
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import Type, { type Static } from 'typebox';
import { checkToken, type Principal } from '../../../warehouse/access/tokens.ts';
import { createSession, endSession } from '../../../warehouse/access/sessions.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { looksLikeJwt } from '../../plugins/oidc.ts';
import { fromAnotherSite } from '../../plugins/auth.ts';
import { SESSION_COOKIE, sessionCookieOptions } from '../../plugins/session.ts';

const SignIn = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 8192, description: 'An API token (civic token create) or, where OpenID Connect is configured, an identity token (JWT)' }) },
  { additionalProperties: false },
);

export const SessionInfo = Type.Object({
  signed_in: Type.Boolean(),
  name: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  agencies: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'The agencies whose cases the caller sees; null = every agency' })),
  via: Type.Optional(Type.String({ description: 'session (the cookie), token or oidc (a bearer credential)' })),
  expires_at: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'When the session (or credential) stops working; null = never' })),
});

const info = (p: Principal | null, via = p?.via) =>
  p ? { signed_in: true, name: p.name, role: p.role, agencies: p.agencies, via, expires_at: p.expires_at ?? null } : { signed_in: false };

const refuse = (reply: FastifyReply, status: number, message: string) =>
  reply.code(status).send({ statusCode: status, error: status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 415 ? 'Unsupported Media Type' : 'Bad Request', message });

const session: FastifyPluginAsync = async (fastify) => {
  fastify.get(
    '/api/session',
    { schema: { summary: 'Who is signed in (the dashboard session or the bearer credential sent), and until when', tags: ['access'], querystring: Type.Object({}, { additionalProperties: false }), response: { 200: SessionInfo } }, config: { access: 'public' } },
    async (request) => info(request.principal),
  );

  fastify.post<{ Body: Static<typeof SignIn> }>(
    '/api/session',
    {
      schema: {
        summary: 'Sign in to the dashboard: a token in, a session cookie out (signed, HttpOnly, SameSite=Strict)',
        description: 'The session lasts auth.session_hours (8 by default), never beyond the expiry of the token it was made from, and ends at once when that token is revoked. A public token cannot sign in.',
        tags: ['access'],
        body: SignIn,
        response: { 200: SessionInfo, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 415: ErrorResponse },
      },
      config: { access: 'public', audit: true },
    },
    async (request, reply) => {
      // A form on another site could post text that parses as this body: only same-site JSON signs in.
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) return refuse(reply, 415, 'Send the token as JSON: {"token": "…"}');
      if (fromAnotherSite(request)) return refuse(reply, 403, 'A page on another site cannot sign in here.');
      const token = request.body.token.trim();
      let principal: Principal;
      if (looksLikeJwt(token)) {
        if (!fastify.oidc) return refuse(reply, 401, 'This server does not accept OpenID Connect tokens (auth.oidc is not configured); use an API token.');
        const r = await fastify.oidc.verify(token);
        if (!('principal' in r)) return refuse(reply, r.status, r.message);
        principal = r.principal;
      } else {
        const r = await checkToken(fastify.warehouse, token);
        if (!('principal' in r)) {
          request.log.warn({ reason: r.reason }, 'sign-in refused');
          return refuse(reply, 401, { unknown: 'That token is not valid.', revoked: 'That token was revoked.', expired: 'That token has expired: ask an admin for a new one.' }[r.reason]);
        }
        principal = r.principal;
      }
      if (principal.role === 'public') return refuse(reply, 403, 'A public token cannot sign in to the staff dashboard.');
      const s = await createSession(fastify.warehouse, principal, new Date(Date.now() + fastify.sessionHours * 3600e3));
      // The audit row names who signed in.
      request.principal = principal;
      reply.setCookie(SESSION_COOKIE, s.id, sessionCookieOptions(new Date(s.expires_at)));
      return { ...info(principal, 'session'), expires_at: s.expires_at };
    },
  );

  fastify.delete(
    '/api/session',
    { schema: { summary: 'Sign out: the session ends on the server and the cookie is cleared', tags: ['access'], response: { 200: SessionInfo } }, config: { access: 'public', audit: true } },
    async (request, reply) => {
      const raw = request.cookies[SESSION_COOKIE];
      const unsigned = raw ? request.unsignCookie(raw) : null;
      if (unsigned?.valid && unsigned.value) await endSession(fastify.warehouse, unsigned.value);
      reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' });
      return { signed_in: false };
    },
  );
};

export default session;
