// API tokens: random, shown once, stored as a SHA-256 hash (a leaked warehouse leaks no token).
// Each has an expiry (90 days unless told otherwise; "never" on purpose) and may be limited to
// agencies. Storage only; the HTTP side (who may call what) is api/plugins/auth.ts.
// Keep the imports light: `civic token` loads this module before it knows whether it needs DuckDB.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Warehouse } from '../db.ts';
import { checkGeneration, forgetCredentialChecks, keepCheck, keptCheck } from './kept-checks.ts';
import { CivicError, closest } from '../errors.ts';
export const ROLES = ['admin', 'manager', 'planner', 'public'] as const;
export type Role = (typeof ROLES)[number];
/** The roles that may read staff data. */
export const STAFF_ROLES = ['admin', 'manager', 'planner'] as const satisfies readonly Role[];

/** How the caller proved who they are. */
export type Via = 'token' | 'session' | 'oidc' | 'local';

export interface Principal {
  /** The API token's id; `oidc:<subject>` for an OpenID Connect identity; `local-admin` for the server's credential. */
  token_id: string;
  name: string;
  role: Role;
  /** The agencies whose cases the caller sees; null = every agency, [] = none. */
  agencies: string[] | null;
  via?: Via;
  /** When the credential (or session) stops working; null = never. */
  expires_at?: string | null;
}

export type TokenStatus = 'active' | 'expired' | 'revoked';

/** What anyone may know about a token: never the token, never its hash. */
export interface TokenInfo {
  token_id: string;
  name: string;
  role: Role;
  agencies: string[] | null;
  created_at: string;
  /** null = never expires. */
  expires_at: string | null;
  revoked_at: string | null;
  status: TokenStatus;
}

/** A token's lifetime when its creator does not say. */
export const DEFAULT_TOKEN_DAYS = 90;

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export const ISO = `'%Y-%m-%dT%H:%M:%S.%fZ'`;
const STATUS = `CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'expired' ELSE 'active' END`;
const INFO_COLUMNS = `token_id, name, role, agencies, strftime(created_at, ${ISO}) AS created_at, strftime(expires_at, ${ISO}) AS expires_at, strftime(revoked_at, ${ISO}) AS revoked_at, ${STATUS} AS status`;

/**
 * An expiry as people write it: `never`, a duration from now (`30d`, `12h`, `2w`, `90m`), or a
 * date or date-time (`2027-01-31`, a date alone meaning the end of that day, UTC). Returns an ISO
 * time, or null for never. `parameter` names the option in the error.
 */
export function parseExpiry(text: string, parameter = 'expires', now = new Date()): string | null {
  const t = text.trim();
  if (/^never$/i.test(t)) return null;
  const d = /^(\d{1,6})\s*(m|min|h|d|w)$/i.exec(t);
  if (d) {
    const n = Number(d[1]);
    if (n === 0) throw new CivicError(`${parameter} "${text}" is not in the future`, { parameter });
    const unit = { m: 60e3, min: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[d[2].toLowerCase() as 'm'];
    return new Date(now.getTime() + n * unit).toISOString();
  }
  const date = /^\d{4}-\d{2}-\d{2}$/.test(t) ? new Date(`${t}T23:59:59.999Z`) : /^\d{4}-\d{2}-\d{2}T/.test(t) ? new Date(t) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new CivicError(`${parameter} "${text}" is not an expiry: give a duration (30d, 12h, 2w), a date (2027-01-31), a date-time (2027-01-31T18:00:00Z) or never`, { parameter });
  }
  if (date.getTime() <= now.getTime()) throw new CivicError(`${parameter} "${text}" is not in the future`, { parameter });
  return date.toISOString();
}

/** The agencies the cases name, for checking a scope against the data. */
export async function knownAgencies(wh: Warehouse): Promise<string[]> {
  return (await wh.all<{ a: string }>(`SELECT DISTINCT agency AS a FROM cases WHERE agency IS NOT NULL ORDER BY 1`)).map((r) => r.a);
}

/**
 * A scope's agencies checked against the data: an empty list is refused (it would see nothing —
 * leave it out for every agency), a name the cases do not have is refused with the closest ones;
 * with no cases loaded yet nothing can be checked, and the warnings say so.
 */
export async function checkAgencies(wh: Warehouse, agencies: readonly string[] | undefined, parameter = 'agencies'): Promise<{ agencies: string[] | null; warnings: string[] }> {
  if (agencies === undefined) return { agencies: null, warnings: [] };
  const names = [...new Set(agencies.map((a) => a.trim()))];
  if (names.length === 0 || names.some((a) => a === '')) {
    throw new CivicError(`${parameter}: an empty agency name or list would let the token see no case; leave ${parameter} out for every agency`, { parameter });
  }
  const known = await knownAgencies(wh);
  if (known.length === 0) return { agencies: names, warnings: [`no cases are loaded yet, so the agencies ${names.map((a) => `"${a}"`).join(', ')} could not be checked against the data`] };
  for (const a of names) {
    if (!known.includes(a)) throw new CivicError(`${parameter}: "${a}" is not an agency in the data; closest: ${closest(a, known).map((v) => `"${v}"`).join(', ')}`, { parameter });
  }
  return { agencies: names, warnings: [] };
}

export interface CreateTokenInput {
  name: string;
  role: Role;
  /** Limit the token to these agencies; undefined = every agency. An empty list is refused. */
  agencies?: string[];
  /** ISO time; null = never; undefined = DEFAULT_TOKEN_DAYS from now. */
  expires_at?: string | null;
}

export async function createToken(wh: Warehouse, opts: CreateTokenInput): Promise<{ token: string; token_id: string; warnings: string[] }> {
  if (!ROLES.includes(opts.role)) throw new CivicError(`role must be one of ${ROLES.join(', ')}`, { parameter: 'role' });
  const expiresAt = opts.expires_at === undefined ? new Date(Date.now() + DEFAULT_TOKEN_DAYS * 86400e3).toISOString() : opts.expires_at;
  if (expiresAt !== null) {
    const t = new Date(expiresAt);
    if (Number.isNaN(t.getTime())) throw new CivicError(`expires_at "${expiresAt}" is not a time`, { parameter: 'expires_at' });
    if (t.getTime() <= Date.now()) throw new CivicError(`expires_at "${expiresAt}" is not in the future`, { parameter: 'expires_at' });
  }
  const { agencies, warnings } = await checkAgencies(wh, opts.agencies);
  const token = `cp_${randomBytes(24).toString('base64url')}`;
  const tokenId = randomUUID();
  const list = agencies ? `[${agencies.map((_, i) => `$a${i}`).join(', ')}]::VARCHAR[]` : 'NULL';
  await wh.run(
    `INSERT INTO api_tokens (token_id, name, role, agencies, token_hash, expires_at) VALUES ($id, $name, $role, ${list}, $hash, $expires::TIMESTAMPTZ)`,
    { id: tokenId, name: opts.name, role: opts.role, hash: hashToken(token), expires: expiresAt, ...Object.fromEntries((agencies ?? []).map((a, i) => [`a${i}`, a])) },
  );
  return { token, token_id: tokenId, warnings };
}

export type TokenCheck = { principal: Principal } | { reason: 'unknown' | 'revoked' | 'expired' };

/** The principal a token stands for, or why it stands for none. */
export async function checkToken(wh: Warehouse, token: string): Promise<TokenCheck> {
  const h = hashToken(token);
  const key = `token:${h}`;
  const hit = keptCheck(wh, key);
  if (hit) return { principal: hit };
  const startedIn = checkGeneration();
  const row = await wh.one<{ token_id: string; name: string; role: Role; agencies: string[] | null; expires_at: string | null; status: TokenStatus }>(
    `SELECT token_id, name, role, agencies, strftime(expires_at, ${ISO}) AS expires_at, ${STATUS} AS status FROM api_tokens WHERE token_hash = $h`,
    { h },
  );
  if (!row) return { reason: 'unknown' };
  if (row.status !== 'active') return { reason: row.status };
  const principal: Principal = { token_id: row.token_id, name: row.name, role: row.role, agencies: row.agencies, via: 'token', expires_at: row.expires_at };
  keepCheck(wh, key, principal, startedIn);
  return { principal };
}

export async function verifyToken(wh: Warehouse, token: string): Promise<Principal | null> {
  const r = await checkToken(wh, token);
  return 'principal' in r ? r.principal : null;
}

export async function revokeToken(wh: Warehouse, tokenId: string): Promise<boolean> {
  let changed = 1; // if the UPDATE fails, whether it took effect is unknown: forget all the same
  try {
    changed = await wh.changed(`UPDATE api_tokens SET revoked_at = now() WHERE token_id = $id AND revoked_at IS NULL`, { id: tokenId });
    return changed > 0;
  } finally {
    // The token and every session made from it stop working at once, kept checks included. A
    // call that revoked nothing (unknown, or revoked before) leaves them: none of them is its.
    if (changed > 0) forgetCredentialChecks();
  }
}

export async function getToken(wh: Warehouse, tokenId: string): Promise<TokenInfo | null> {
  return (await wh.one<TokenInfo>(`SELECT ${INFO_COLUMNS} FROM api_tokens WHERE token_id = $id`, { id: tokenId })) ?? null;
}

/** Every token, revoked and expired ones too (with when), oldest first. */
export async function listTokens(wh: Warehouse): Promise<TokenInfo[]> {
  return wh.all<TokenInfo>(`SELECT ${INFO_COLUMNS} FROM api_tokens ORDER BY created_at, token_id`);
}
