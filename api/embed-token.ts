// Signed, expiring embed tokens: a manager lets a city's own page show one staff view in a frame
// without giving that page a credential. The token carries everything the view may show — which
// view, its parameters, the agency scope of whoever issued it, the expiry — and an HMAC-SHA256
// over all of it, so changing any part (a wider scope, a later expiry, another view) breaks the
// signature. A link never outlives the credential that issued it. Stateless otherwise: revoking
// every link at once means changing the session secret they are derived from.
import { createHmac, timingSafeEqual } from 'node:crypto';

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

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The key for embed tokens: its own purpose, so a session signature can never pass as one. */
export const embedKey = (secret: string) => createHmac('sha256', secret).update('civic-pulse embed tokens v1').digest();

export function signEmbedToken(claims: EmbedClaims, key: Buffer): string {
  const body = b64(JSON.stringify(claims));
  return `${body}.${b64(createHmac('sha256', key).update(body).digest())}`;
}

export type EmbedCheck = { ok: true; claims: EmbedClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'view'; expired_at?: string };

/** Checks signature, expiry and view; says which failed (the page tells the reader, plainly). */
export function verifyEmbedToken(token: string, view: string, key: Buffer, now = Date.now()): EmbedCheck {
  const parts = token.split('.');
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', key).update(parts[0]).digest();
  const given = Buffer.from(parts[1], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  let claims: EmbedClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as EmbedClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) return { ok: false, reason: 'expired', expired_at: typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined };
  if (claims.view !== view) return { ok: false, reason: 'view' };
  return { ok: true, claims };
}
