// Dashboard sessions: a random id (the cookie carries it, signed), stored as a SHA-256 hash, with
// an expiry; signing out ends it here, so a copied cookie stops working too. A session made from
// an API token reads the token's role and agencies at every request, so revoking or expiring the
// token ends the session; one made from an OpenID Connect identity keeps what the identity said.
import { randomBytes } from 'node:crypto';
import type { Warehouse } from '../db.ts';
import { hashToken, ISO, type Principal, type Role } from './tokens.ts';
import { checkGeneration, forgetCredentialChecks, keepCheck, keptCheck } from './kept-checks.ts';

export interface NewSession {
  /** The random id for the cookie: given once, only its hash is stored. */
  id: string;
  expires_at: string;
}

/** Starts a session for `principal` (signed in with a token or an OIDC identity), ending at `expiresAt` or the credential's own expiry, whichever is first. */
export async function createSession(wh: Warehouse, principal: Principal, expiresAt: Date): Promise<NewSession> {
  const id = randomBytes(32).toString('base64url');
  let end = expiresAt;
  if (principal.expires_at) end = new Date(Math.min(end.getTime(), new Date(principal.expires_at).getTime()));
  const via = principal.via === 'oidc' ? 'oidc' : 'token';
  const agencies = principal.agencies ? `[${principal.agencies.map((_, i) => `$a${i}`).join(', ')}]::VARCHAR[]` : 'NULL';
  await wh.run(
    `INSERT INTO sessions (session_hash, via, token_id, subject, name, role, agencies, expires_at)
     VALUES ($hash, $via, $token_id, $subject, $name, $role, ${agencies}, $expires::TIMESTAMPTZ)`,
    {
      hash: hashToken(id),
      via,
      token_id: via === 'token' ? principal.token_id : null,
      // For an OIDC identity, its `oidc:<subject>` id.
      subject: via === 'oidc' ? principal.token_id : null,
      name: principal.name,
      role: principal.role,
      expires: end.toISOString(),
      ...Object.fromEntries((principal.agencies ?? []).map((a, i) => [`a${i}`, a])),
    },
  );
  return { id, expires_at: end.toISOString() };
}

const iso = (t: string) => new Date(t).toISOString();

export type SessionCheck = { principal: Principal } | { reason: 'unknown' | 'ended' | 'expired' | 'credential' };

/** The principal a session id stands for now, or why it stands for none. */
export async function checkSession(wh: Warehouse, id: string): Promise<SessionCheck> {
  const h = hashToken(id);
  const key = `session:${h}`;
  const hit = keptCheck(wh, key);
  if (hit) return { principal: hit };
  const startedIn = checkGeneration();
  const row = await wh.one<{
    via: 'token' | 'oidc'; token_id: string | null; subject: string | null; name: string; role: Role; agencies: string[] | null;
    expires_at: string; expired: boolean; ended: boolean;
    t_name: string | null; t_role: Role | null; t_agencies: string[] | null; t_ok: boolean | null;
  }>(
    `SELECT s.via, s.token_id, s.subject, s.name, s.role, s.agencies, strftime(s.expires_at, ${ISO}) AS expires_at,
            s.expires_at <= now() AS expired, s.ended_at IS NOT NULL AS ended,
            t.name AS t_name, t.role AS t_role, t.agencies AS t_agencies,
            t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AS t_ok
     FROM sessions s LEFT JOIN api_tokens t ON t.token_id = s.token_id
     WHERE s.session_hash = $h`,
    { h },
  );
  if (!row) return { reason: 'unknown' };
  if (row.ended) return { reason: 'ended' };
  if (row.expired) return { reason: 'expired' };
  let principal: Principal;
  if (row.via === 'token') {
    if (!row.t_ok || !row.t_role) return { reason: 'credential' };
    principal = { token_id: row.token_id!, name: row.t_name!, role: row.t_role, agencies: row.t_agencies, via: 'session', expires_at: iso(row.expires_at) };
  } else {
    principal = { token_id: row.subject!, name: row.name, role: row.role, agencies: row.agencies, via: 'session', expires_at: iso(row.expires_at) };
  }
  // Kept no longer than the session's end, which is never after its token's (createSession).
  keepCheck(wh, key, principal, startedIn);
  return { principal };
}

/** Ends a session (sign-out); false when there was none to end. */
export async function endSession(wh: Warehouse, id: string): Promise<boolean> {
  let changed = 1; // a failed UPDATE may have taken effect: forget all the same
  try {
    changed = await wh.changed(`UPDATE sessions SET ended_at = now() WHERE session_hash = $h AND ended_at IS NULL`, { h: hashToken(id) });
    return changed > 0;
  } finally {
    // Sign-out is a public route: a stale cookie signing out again ends nothing and drops nothing.
    if (changed > 0) forgetCredentialChecks();
  }
}
