// API tokens: random, shown once, stored as a SHA-256 hash (a leaked warehouse leaks no token).
// Storage only; the HTTP side (who may call what) is api/plugins/auth.ts.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Warehouse } from '../db.ts';
import { CivicError } from '../errors.ts';
export const ROLES = ['admin', 'manager', 'planner', 'public'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal { token_id: string; name: string; role: Role; agencies: string[] | null }

/** What anyone may know about a token: never the token, never its hash. */
export interface TokenInfo { token_id: string; name: string; role: Role; agencies: string[] | null; created_at: string; revoked_at: string | null }

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

const ISO = `'%Y-%m-%dT%H:%M:%S.%fZ'`;
const INFO_COLUMNS = `token_id, name, role, agencies, strftime(created_at, ${ISO}) AS created_at, strftime(revoked_at, ${ISO}) AS revoked_at`;

export async function createToken(wh: Warehouse, opts: { name: string; role: Role; agencies?: string[] }): Promise<{ token: string; token_id: string }> {
  if (!ROLES.includes(opts.role)) throw new CivicError(`role must be one of ${ROLES.join(', ')}`, { parameter: 'role' });
  const token = `cp_${randomBytes(24).toString('base64url')}`;
  const tokenId = randomUUID();
  const agencies = opts.agencies?.length ? `[${opts.agencies.map((_, i) => `$a${i}`).join(', ')}]` : 'NULL';
  await wh.run(
    `INSERT INTO api_tokens (token_id, name, role, agencies, token_hash) VALUES ($id, $name, $role, ${agencies}, $hash)`,
    { id: tokenId, name: opts.name, role: opts.role, hash: hashToken(token), ...Object.fromEntries((opts.agencies ?? []).map((a, i) => [`a${i}`, a])) },
  );
  return { token, token_id: tokenId };
}

export async function verifyToken(wh: Warehouse, token: string): Promise<Principal | null> {
  const row = await wh.one<Principal>(
    `SELECT token_id, name, role, agencies FROM api_tokens WHERE token_hash = $h AND revoked_at IS NULL`,
    { h: hashToken(token) },
  );
  return row ?? null;
}

export async function revokeToken(wh: Warehouse, tokenId: string): Promise<boolean> {
  return (await wh.changed(`UPDATE api_tokens SET revoked_at = now() WHERE token_id = $id AND revoked_at IS NULL`, { id: tokenId })) > 0;
}

export async function getToken(wh: Warehouse, tokenId: string): Promise<TokenInfo | null> {
  return (await wh.one<TokenInfo>(`SELECT ${INFO_COLUMNS} FROM api_tokens WHERE token_id = $id`, { id: tokenId })) ?? null;
}

/** Every token, revoked ones too (with when), oldest first. */
export async function listTokens(wh: Warehouse): Promise<TokenInfo[]> {
  return wh.all<TokenInfo>(`SELECT ${INFO_COLUMNS} FROM api_tokens ORDER BY created_at, token_id`);
}

