// Signed, expiring download links for a run's files: sent instead of an attachment the mail server
// would refuse, and in webhook payloads. The pattern of api/embed-token.ts: base64url(JSON claims)
// "." base64url(HMAC-SHA256), with a key derived from the session secret for this purpose only, so
// neither a session cookie nor an embed token can pass as a file link. Served by
// GET /api/reports/files/<token>. Stateless: changing auth.session_secret withdraws every link.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `file` is the file's place in the run's list: a name would make the link too long for a path segment. */
export interface FileLinkClaims { run: string; file: number; /** seconds since the epoch */ exp: number }

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export const fileLinkKey = (sessionSecret: string) => createHmac('sha256', sessionSecret).update('civic-pulse report file links v1').digest();

export function signFileLink(claims: FileLinkClaims, key: Buffer): string {
  const body = b64(JSON.stringify([claims.run, claims.file, claims.exp]));
  return `${body}.${b64(createHmac('sha256', key).update(body).digest())}`;
}

export type FileLinkCheck = { ok: true; claims: FileLinkClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired'; expired_at?: string };

export function verifyFileLink(token: string, key: Buffer, now = Date.now()): FileLinkCheck {
  const parts = token.split('.');
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', key).update(parts[0]).digest();
  const given = Buffer.from(parts[1], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  let claims: FileLinkClaims;
  try {
    const [run, file, exp] = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    if (typeof run !== 'string' || !Number.isInteger(file) || typeof exp !== 'number') return { ok: false, reason: 'malformed' };
    claims = { run, file: file as number, exp };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.exp * 1000 <= now) return { ok: false, reason: 'expired', expired_at: new Date(claims.exp * 1000).toISOString() };
  return { ok: true, claims };
}

/** The full URL of a file link under `publicUrl` (the server's address as readers reach it). */
export function fileLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/reports/files/${token}`;
}
