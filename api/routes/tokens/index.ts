// /api/tokens: create, list and revoke API tokens (admin). The token is shown once, at creation.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from 'typebox';
import { toCsv } from '../../../reports/render-csv.ts';
import { acceptServerCredential } from '../../tokens.ts';
import { createToken, getToken, listTokens, revokeToken, type TokenInfo } from '../../../warehouse/access/tokens.ts';
import { createTokenRouteSchema, listTokensRouteSchema, revokeTokenRouteSchema, type CreateTokenBody, type ListQuery, type TokenParams } from './schema.ts';

export const TOKEN_COLUMNS = ['token_id', 'name', 'role', 'agencies', 'created_at', 'expires_at', 'revoked_at', 'status'] as const;

/** The token list as CSV (agencies joined with "; "); `civic token list --csv` prints the same. */
export const tokensCsv = (rows: readonly TokenInfo[]) => toCsv(rows.map((r) => ({ ...r, agencies: r.agencies?.join('; ') ?? null })), TOKEN_COLUMNS);

const tokens: FastifyPluginAsync = async (fastify) => {
  acceptServerCredential(fastify);
  const admin = fastify.requireRole('admin');

  fastify.post<{ Body: Static<typeof CreateTokenBody> }>('/api/tokens', { schema: createTokenRouteSchema, preHandler: admin, config: { audit_body: true } }, async (request, reply) => {
    const { role, name, agencies, expires_at } = request.body;
    const created = await createToken(fastify.warehouse, { role, name: name ?? `${role} token`, agencies, expires_at });
    request.log.info({ token_id: created.token_id, role, by: request.principal?.token_id }, 'token created');
    return reply.code(201).send({ token: created.token, ...(await getToken(fastify.warehouse, created.token_id))!, warnings: created.warnings });
  });

  fastify.get<{ Querystring: Static<typeof ListQuery> }>('/api/tokens', { schema: listTokensRouteSchema, preHandler: admin }, async (request, reply) => {
    const rows = await listTokens(fastify.warehouse);
    if (request.query.format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="tokens.csv"')
        .send(tokensCsv(rows));
    }
    return { tokens: rows };
  });

  fastify.delete<{ Params: Static<typeof TokenParams> }>('/api/tokens/:token_id', { schema: revokeTokenRouteSchema, preHandler: admin }, async (request, reply) => {
    const id = request.params.token_id.toLowerCase();
    const revokedNow = await revokeToken(fastify.warehouse, id);
    const token = await getToken(fastify.warehouse, id);
    if (!token) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No token ${id} (GET /api/tokens lists them)` });
    if (revokedNow) request.log.info({ token_id: id, by: request.principal?.token_id }, 'token revoked');
    return { ...token, revoked_now: revokedNow };
  });
};

export default tokens;
