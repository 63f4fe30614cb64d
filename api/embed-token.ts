// Signed, expiring embed tokens: a manager lets a city's own page show one staff view in a frame
// without giving that page a credential. The token carries everything the view may show — which
// view, its parameters, the agency scope of whoever issued it, the expiry — and an HMAC-SHA256
// over all of it, so changing any part (a wider scope, a later expiry, another view) breaks the
// signature. A link never outlives the credential that issued it. Stateless otherwise: revoking
// every link at once means changing the session secret they are derived from.
import { purposeKey, signToken, verifyToken } from '../reports/signed-token.ts';

export interface EmbedClaims {
  /** The staff view, e.g. "staff-overview". */
  view: string;
  /** The view's parameters (window and filters), as the view's own query would name them. */
  params: Record<string, string | number>;
  /** The issuer's agency scope: null = every agency. */
  agencies: string[] | null;
  /** Who issued it (token or session name), for the audit log. */
  issuer: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

/** The key for embed tokens: its own purpose, so a session signature can never pass as one. */
export const embedKey = (secret: string) => purposeKey(secret, 'civic-pulse embed tokens v1');

export function signEmbedToken(claims: EmbedClaims, key: Buffer): string {
  return signToken(claims, key);
}

export type EmbedCheck = { ok: true; claims: EmbedClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'view'; expired_at?: string };

/** Checks signature, expiry and view; says which failed (the page tells the reader, plainly). */
export function verifyEmbedToken(token: string, view: string, key: Buffer, now = Date.now()): EmbedCheck {
  const checked = verifyToken(token, key);
  if (!checked.ok) return checked;
  const claims = checked.value as EmbedClaims;
  if (claims === null || typeof claims !== 'object') return { ok: false, reason: 'malformed' };
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) return { ok: false, reason: 'expired', expired_at: typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined };
  if (claims.view !== view) return { ok: false, reason: 'view' };
  return { ok: true, claims };
}
