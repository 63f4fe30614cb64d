// OpenID Connect bearer tokens: a JWT from the city's identity provider, verified with `jose`
// against the configured issuer, audience and the provider's public keys (a JWKS file, re-read
// when it changes, so a key rotation needs no restart). One claim gives the role (through
// auth.oidc.role_map), another the agencies the identity is limited to.
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { readFileSync, statSync } from 'node:fs';
import type { OidcConfig } from '../config.ts';
import { ROLES, type Principal, type Role } from '../../warehouse/access/tokens.ts';

/** Asymmetric signatures only: never `none`, never a shared secret an attacker could guess from the JWKS. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export type OidcResult = { principal: Principal } | { status: 401 | 403; message: string };

/** A bearer credential shaped like a JWT (three base64url parts), not one of our `cp_` tokens. */
export const looksLikeJwt = (credential: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(credential);

/** `a.b.c` reaches into nested objects (Keycloak's realm_access.roles); a claim named with dots wins if present. */
function claim(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let v: unknown = payload;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const strings = (v: unknown): string[] | null => (typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);

/** The most privileged role the claim values map to (admin before manager before planner before public). */
export function roleFromClaim(values: readonly string[], map: Record<string, Role>): Role | null {
  const roles = values.map((v) => (Object.hasOwn(map, v) ? map[v] : (ROLES as readonly string[]).includes(v) ? (v as Role) : null)).filter((r): r is Role => r !== null);
  return ROLES.find((r) => roles.includes(r)) ?? null;
}

export class OidcVerifier {
  private jwks: ReturnType<typeof createLocalJWKSet> | null = null;
  private loadedMtime = -1;

  constructor(private readonly cfg: OidcConfig) {
    this.keys(); // a bad file fails the start, not the first request
  }

  private keys(): ReturnType<typeof createLocalJWKSet> {
    const mtime = statSync(this.cfg.jwks_file).mtimeMs;
    if (!this.jwks || mtime !== this.loadedMtime) {
      this.jwks = createLocalJWKSet(JSON.parse(readFileSync(this.cfg.jwks_file, 'utf8')));
      this.loadedMtime = mtime;
    }
    return this.jwks;
  }

  async verify(jwt: string, now = new Date()): Promise<OidcResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, this.keys(), {
        issuer: this.cfg.issuer,
        audience: this.cfg.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.cfg.clock_tolerance_seconds,
        requiredClaims: ['sub', 'exp'],
        currentDate: now,
      }));
    } catch (err) {
      return { status: 401, message: `The identity token is not accepted: ${why(err, this.cfg)}` };
    }
    const values = strings(claim(payload, this.cfg.role_claim));
    const role = values ? roleFromClaim(values, this.cfg.role_map) : null;
    if (!role) {
      const given = values ? values.map((v) => `"${v}"`).join(', ') : 'nothing';
      return { status: 403, message: `The identity's role claim "${this.cfg.role_claim}" (${given}) maps to no role (admin, manager, planner or public): ask an administrator to add it to auth.oidc.role_map.` };
    }
    let agencies: string[] | null = null;
    if (this.cfg.agencies_claim) {
      const raw = claim(payload, this.cfg.agencies_claim);
      if (raw !== undefined && raw !== null) {
        agencies = strings(raw);
        if (!agencies) return { status: 401, message: `The identity token is not accepted: its "${this.cfg.agencies_claim}" claim is neither a name nor a list of names.` };
      }
    }
    const name = [this.cfg.name_claim, 'preferred_username', 'email'].map((c) => claim(payload, c)).find((v): v is string => typeof v === 'string' && v !== '') ?? payload.sub!;
    return { principal: { token_id: `oidc:${payload.sub}`, name, role, agencies, via: 'oidc', expires_at: new Date(payload.exp! * 1000).toISOString() } };
  }
}

function why(err: unknown, cfg: OidcConfig): string {
  if (err instanceof errors.JWTExpired) return `it expired${typeof err.payload.exp === 'number' ? ` at ${new Date(err.payload.exp * 1000).toISOString()}` : ''}; sign in again at the identity provider.`;
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return `it is for another audience (${JSON.stringify(err.payload.aud ?? null)}; this server is ${JSON.stringify(cfg.audience)}).`;
    if (err.claim === 'iss') return `it comes from another issuer (${JSON.stringify(err.payload.iss ?? null)}; this server trusts ${JSON.stringify(cfg.issuer)}).`;
    return `its "${err.claim}" claim ${err.reason === 'missing' ? 'is missing' : 'is not valid'}.`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return 'it is not signed by a key of the configured identity provider (auth.oidc.jwks_file).';
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return 'its signature algorithm is not allowed.';
  return 'it is not a well-formed signed JWT.';
}
