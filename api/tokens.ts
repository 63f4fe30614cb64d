// API tokens: random, shown once, stored as a SHA-256 hash (a leaked warehouse leaks no token).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Warehouse } from '../warehouse/db.ts';

export const ROLES = ['admin', 'manager', 'planner', 'public'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal { token_id: string; name: string; role: Role; agencies: string[] | null }

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export async function createToken(wh: Warehouse, opts: { name: string; role: Role; agencies?: string[] }): Promise<{ token: string; token_id: string }> {
  if (!ROLES.includes(opts.role)) throw new Error(`role must be one of ${ROLES.join(', ')}`);
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
