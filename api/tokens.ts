// The running server's local admin credential, which lets `civic token …` and `civic rejects`
// reach the server while it holds the warehouse (DuckDB allows one process per file).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { hashToken, type Principal } from '../warehouse/access/tokens.ts';

// ── The server's local admin credential ──────────────────────────────────────────────────────
// At start the server writes <database>.server.json (mode 0600: its URL, pid and a random key),
// keeps only the key's SHA-256 in memory, and accepts the key as an admin on the admin routes
// that opt in (tokens, rejects). This grants nothing new: whoever can read that file can read
// the folder the warehouse lives in, and so can already open the database (when the server is
// stopped) and write any token into it. The file is removed when the server shuts down cleanly.

export interface ServerCredential { url: string; pid: number; key: string; database: string; started_at: string }

/** The principal the local credential stands for. */
export const LOCAL_ADMIN: Principal = { token_id: 'local-admin', name: 'local operator (server credential file)', role: 'admin', agencies: null, via: 'local' };

export const serverCredentialPath = (database: string) => `${database}.server.json`;

export function newServerKey(): string {
  return `cpl_${randomBytes(32).toString('base64url')}`;
}

/** Written to a private temp file, then renamed over any stale one: a reader never sees half a file, nor a wider mode. */
export function writeServerCredential(credential: ServerCredential): string {
  const path = serverCredentialPath(credential.database);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(credential, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
  return path;
}

/** Removes the file only if it is still ours (same key). */
export function removeServerCredential(database: string, key: string): void {
  const path = serverCredentialPath(database);
  try {
    const current = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServerCredential>;
    if (current.key === key) rmSync(path, { force: true });
  } catch {
    // gone already, or not ours to judge
  }
}

export type CredentialLookup =
  | { state: 'found'; credential: ServerCredential; path: string }
  | { state: 'absent' | 'unreadable' | 'stale'; path: string; reason?: string };

/** The running server's credential for this database, if a live server left one. */
export function readServerCredential(database: string): CredentialLookup {
  const path = serverCredentialPath(database);
  let credential: ServerCredential;
  try {
    credential = JSON.parse(readFileSync(path, 'utf8')) as ServerCredential;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'absent', path };
    return { state: 'unreadable', path, reason: code === 'EACCES' ? 'permission denied (run as the user the server runs as)' : (err as Error).message };
  }
  if (typeof credential.url !== 'string' || typeof credential.key !== 'string' || !Number.isInteger(credential.pid)) {
    return { state: 'unreadable', path, reason: 'not a server credential file' };
  }
  try {
    process.kill(credential.pid, 0);
  } catch (err) {
    // EPERM: alive, but someone else's process.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return { state: 'stale', path, reason: `process ${credential.pid} is not running` };
  }
  return { state: 'found', credential, path };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** SHA-256 of the server's local admin key; decorated by api/server.ts only. */
    serverCredentialHash?: string;
  }
}

/**
 * Lets the routes of `fastify` (an encapsulated route plugin) accept the server's local admin
 * key as an admin principal. Runs after the auth plugin's hook, so a real token still wins.
 */
export function acceptServerCredential(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request) => {
    if (request.principal) return;
    const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (m && isServerCredential(fastify, m[1])) request.principal = LOCAL_ADMIN;
  });
}

/** Whether `token` is this server's local admin key (compared in constant time, by hash). */
export function isServerCredential(fastify: FastifyInstance, token: string): boolean {
  if (!fastify.serverCredentialHash) return false;
  const expected = Buffer.from(fastify.serverCredentialHash, 'hex');
  const given = Buffer.from(hashToken(token), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
