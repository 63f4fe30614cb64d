// Credential checks a server keeps for a few seconds. Every staff request checked its token (or
// its session) in DuckDB: about 2.5 ms of a request otherwise answered from memory, the largest
// part of it. Only a server keeps them (keepCredentialChecks on its pool of readers): it holds
// DuckDB's single-writer lock, so tokens and sessions change only through this process, and the
// two changes that take a credential away — revokeToken and endSession — drop every kept check
// (forgetCredentialChecks) before they return. Expiry needs no event: a check is kept no longer
// than the credential's own expiry, and never longer than KEEP_MS. Only good credentials are
// kept: an unknown, revoked or expired one is asked about every time.
import type { Warehouse } from '../db.ts';
import type { Principal } from './tokens.ts';

/** The longest a good check is trusted without asking again. */
export const KEEP_MS = 5_000;
/** Kept checks per warehouse at most (one per token or session in use): past it, all are dropped. */
const MAX_KEPT = 10_000;

interface Kept { until: number; generation: number; principal: Principal }
const kept = new WeakMap<Warehouse, Map<string, Kept>>();
/** Bumped by every change that takes a credential away: a check from an earlier generation is not trusted. */
let generation = 0;

/** From now on `wh`'s good credential checks are kept (see the top of this file). */
export function keepCredentialChecks(wh: Warehouse): void {
  if (!kept.has(wh)) kept.set(wh, new Map());
}

/** Drops every kept check, on every warehouse: a token was revoked or a session ended. */
export function forgetCredentialChecks(): void {
  generation++;
}

/** The generation a check starts in: pass it to keepCheck when the check is done. */
export const checkGeneration = (): number => generation;

/** A copy of the kept principal for `key`, if one is kept and still good. */
export function keptCheck(wh: Warehouse, key: string): Principal | null {
  const m = kept.get(wh);
  const e = m?.get(key);
  if (!m || !e) return null;
  if (e.generation !== generation || e.until <= Date.now()) {
    m.delete(key);
    return null;
  }
  return { ...e.principal, agencies: e.principal.agencies ? [...e.principal.agencies] : null };
}

/**
 * Keeps a good check made in generation `startedIn`: not when a credential was taken away while
 * it ran (its answer may predate that), and not past the credential's expiry.
 */
export function keepCheck(wh: Warehouse, key: string, principal: Principal, startedIn: number): void {
  const m = kept.get(wh);
  if (!m || startedIn !== generation) return;
  const now = Date.now();
  const expires = principal.expires_at ? Date.parse(principal.expires_at) : Infinity;
  const until = Math.min(now + KEEP_MS, Number.isNaN(expires) ? now : expires);
  if (until <= now) return;
  if (m.size >= MAX_KEPT) m.clear();
  m.set(key, { until, generation, principal: { ...principal, agencies: principal.agencies ? [...principal.agencies] : null } });
}
