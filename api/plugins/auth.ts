// Bearer tokens → request.principal; routes say which roles may call them. Enforced here, on the
// server, whatever the dashboard shows or hides.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyToken, type Principal, type Role } from '../../warehouse/access/tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    requireRole: (...roles: Role[]) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export default fp(
  async (fastify) => {
    fastify.decorateRequest('principal', null);
    fastify.addHook('onRequest', async (request) => {
      const header = request.headers.authorization;
      const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      request.principal = m ? await verifyToken(fastify.warehouse, m[1]) : null;
    });
    fastify.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.principal) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ statusCode: 401, error: 'Unauthorized', message: request.headers.authorization ? 'The token is not valid (unknown or revoked).' : 'This needs a token: Authorization: Bearer <token> (civic token create).' });
      }
      if (!roles.includes(request.principal.role)) {
        return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `This needs the role ${roles.join(' or ')}; the token has ${request.principal.role}.` });
      }
    });
  },
  { name: 'auth', dependencies: ['warehouse'] },
);
