// Signed, expiring download links for a run's files: sent instead of an attachment the mail server
// would refuse, and in webhook payloads. Signed by signed-token.ts, as embed links are, with a key
// derived from the session secret for this purpose only, so neither a session cookie nor an embed
// token can pass as a file link. Served by
// GET /api/reports/files/<token>. Stateless: changing auth.session_secret withdraws every link.
import { purposeKey, signToken, verifyToken } from './signed-token.ts';

/** `file` is the file's place in the run's list: a name would make the link too long for a path segment. */
export interface FileLinkClaims { run: string; file: number; /** seconds since the epoch */ exp: number }

export const fileLinkKey = (sessionSecret: string) => purposeKey(sessionSecret, 'civic-pulse report file links v1');

export function signFileLink(claims: FileLinkClaims, key: Buffer): string {
  return signToken([claims.run, claims.file, claims.exp], key);
}

export type FileLinkCheck = { ok: true; claims: FileLinkClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired'; expired_at?: string };

export function verifyFileLink(token: string, key: Buffer, now = Date.now()): FileLinkCheck {
  const checked = verifyToken(token, key);
  if (!checked.ok) return checked;
  if (!Array.isArray(checked.value)) return { ok: false, reason: 'malformed' };
  const [run, file, exp] = checked.value as unknown[];
  if (typeof run !== 'string' || !Number.isInteger(file) || typeof exp !== 'number') return { ok: false, reason: 'malformed' };
  const claims: FileLinkClaims = { run, file: file as number, exp };
  if (claims.exp * 1000 <= now) return { ok: false, reason: 'expired', expired_at: new Date(claims.exp * 1000).toISOString() };
  return { ok: true, claims };
}

/** The full URL of a file link under `publicUrl` (the server's address as readers reach it). */
export function fileLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/reports/files/${token}`;
}
