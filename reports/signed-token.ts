// The one shape of our signed, stateless links: base64url(JSON) "." base64url(HMAC-SHA256 of the
// first part). Report file links (file-link.ts) and embed links (api/embed-token.ts) each derive
// their own key, so one kind can never pass as another; this module only signs and checks.
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const sign = (body: string, key: Buffer) => b64(createHmac('sha256', key).update(body).digest());

/** A key for one purpose, derived from the server's secret. */
export const purposeKey = (secret: string, purpose: string) => createHmac('sha256', secret).update(purpose).digest();

export function signToken(value: unknown, key: Buffer): string {
  const body = b64(JSON.stringify(value));
  return `${body}.${sign(body, key)}`;
}

export type TokenCheck = { ok: true; value: unknown } | { ok: false; reason: 'malformed' | 'signature' };

/**
 * The signed value, or why not. The signature is compared as text, not as decoded bytes:
 * base64url's last character carries spare bits a decoder ignores, so four spellings decode to the
 * same bytes, and a link whose signature was altered must never pass.
 */
export function verifyToken(token: string, key: Buffer): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(sign(parts[0], key));
  const given = Buffer.from(parts[1]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  try {
    return { ok: true, value: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}
