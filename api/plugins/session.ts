// The dashboard's session cookie: what it is called, how it is set, and the secret that signs it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CookieSerializeOptions } from '@fastify/cookie';

export const SESSION_COOKIE = 'civic_session';

/**
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it, so a link or a
 * form elsewhere cannot act as the signed-in user), signed (a changed cookie is refused), Secure
 * when the request came over HTTPS, and gone from the browser when the session ends.
 */
export function sessionCookieOptions(expiresAt: Date): CookieSerializeOptions {
  return {
    signed: true,
    httpOnly: true,
    sameSite: 'strict',
    secure: 'auto',
    path: '/',
    expires: expiresAt,
    maxAge: Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000)),
  };
}

const perProcess = randomBytes(32).toString('base64url');

/**
 * The secret that signs session cookies: auth.session_secret / CIVIC_SESSION_SECRET when set, else
 * generated once into <data dir>/.civic-session-secret (0600) so sessions survive a restart; a
 * warehouse in memory gets one per process.
 */
export function sessionSecret(configured: string | null, databasePath: string): string {
  if (configured) return configured;
  if (databasePath === ':memory:') return perProcess;
  const file = join(dirname(databasePath), '.civic-session-secret');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(file, 'utf8').trim();
}
