// POST /api/embed-tokens: a manager (or admin) issues a signed link to a staff view for a city
// page's iframe. The view is computed once before the link is given, so a bad filter is a 400
// now rather than a broken frame later; the link carries the issuer's agency scope, never wider.
import type { FastifyPluginAsync } from 'fastify';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeOverview } from '../../../warehouse/analytics/overview.ts';
import type { TargetsConfig } from '../../../warehouse/analytics/targets.ts';
import { ParameterError } from '../../../warehouse/errors.ts';
import { FILTER_NAMES } from '../../../warehouse/queries/case-predicates.ts';
import { filterOf } from '../../schemas/window.ts';
import { signEmbedToken, type EmbedClaims } from '../../embed-token.ts';
import { embedTokenSchema, type EmbedTokenBodyType } from './schema.ts';

export interface EmbedTokenRoutesOptions {
  key: Buffer;
  targets?: TargetsConfig;
  minDenominator?: number;
}

const embedTokenRoutes: FastifyPluginAsync<EmbedTokenRoutesOptions> = async (fastify, opts) => {
  fastify.post<{ Body: EmbedTokenBodyType }>('/api/embed-tokens', { schema: embedTokenSchema, preHandler: fastify.requireRole('admin', 'manager') }, async (request) => {
    const b = request.body;
    const principal = request.principal!;
    // An agency filter outside the issuer's scope would show nothing; say so rather than sign it.
    if (b.agency && principal.agencies && !principal.agencies.includes(b.agency)) throw new ParameterError('body/agency', `agency "${b.agency}" is outside your scope (${principal.agencies.join(', ') || 'no agency'})`);
    const params: Record<string, string | number> = { weeks: b.weeks };
    for (const f of FILTER_NAMES) if (b[f] !== undefined) params[f] = b[f]!;
    if (b.area_kind) params.area_kind = b.area_kind;
    const window = await resolveWindow(fastify.warehouse, { weeks: b.weeks }, (await fastify.jurisdiction()).timezone);
    await computeOverview(fastify.warehouse, window, filterOf(b), { area_kind: b.area_kind, scope: { agencies: principal.agencies }, targets: opts.targets, min_denominator: opts.minDenominator });
    const iat = Math.floor(Date.now() / 1000);
    // Never longer than the credential that issued it: a link must not outlive its issuer's token or session.
    const credentialEnds = principal.expires_at ? Math.floor(Date.parse(principal.expires_at) / 1000) : Infinity;
    const claims: EmbedClaims = { view: b.view, params, agencies: principal.agencies, issuer: principal.name, iat, exp: Math.min(iat + b.expires_in_hours * 3600, credentialEnds) };
    const token = signEmbedToken(claims, opts.key);
    return { token, url: `/embed/${b.view}?token=${token}`, view: b.view, params, agencies: principal.agencies, expires_at: new Date(claims.exp * 1000).toISOString() };
  });
};

export default embedTokenRoutes;
