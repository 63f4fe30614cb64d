// The credential checks a server keeps (kept-checks.ts): a good check saves a query for a few
// seconds, but never outlives the credential, its revocation or the end of its session.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempWarehouse, type TempWarehouse } from '../../test/helpers.ts';
import type { Warehouse } from '../db.ts';
import { checkToken, createToken, revokeToken, type Principal } from './tokens.ts';
import { checkSession, createSession, endSession } from './sessions.ts';
import { checkGeneration, forgetCredentialChecks, keepCheck, keepCredentialChecks, keptCheck, KEEP_MS } from './kept-checks.ts';

/** Counts the statements a warehouse runs (through `one`, which both checks use). */
function counted(wh: Warehouse): { wh: Warehouse; queries: () => number } {
  let n = 0;
  const one = wh.one.bind(wh);
  wh.one = (async (...a: Parameters<Warehouse['one']>) => {
    n++;
    return one(...a);
  }) as Warehouse['one'];
  return { wh, queries: () => n };
}

describe('kept credential checks', () => {
  let t: TempWarehouse;
  let server: Warehouse;
  beforeAll(async () => {
    t = await tempWarehouse();
    server = await t.wh.connect();
    keepCredentialChecks(server);
  });
  afterAll(() => {
    server.close();
    t.cleanup();
  });

  it('a server asks about a good token once; a warehouse that keeps nothing asks every time', async () => {
    const { token } = await createToken(t.wh, { name: 'kept', role: 'manager', agencies: ['Streets'] });
    const s = counted(server);
    const a = await checkToken(s.wh, token);
    const b = await checkToken(s.wh, token);
    expect(a).toEqual(b);
    expect(b).toMatchObject({ principal: { name: 'kept', role: 'manager', agencies: ['Streets'], via: 'token' } });
    expect(s.queries()).toBe(1);
    // A caller changing its copy changes nobody else's.
    if ('principal' in b) b.principal.agencies!.push('Parks');
    expect(await checkToken(s.wh, token)).toEqual(a);

    const other = counted(await t.wh.connect());
    await checkToken(other.wh, token);
    await checkToken(other.wh, token);
    expect(other.queries()).toBe(2);
    other.wh.close();
  });

  it('a revoked token is refused at once, and so is every session made from it', async () => {
    const { token, token_id } = await createToken(t.wh, { name: 'soon revoked', role: 'planner' });
    const session = await createSession(server, (await checkToken(server, token) as { principal: Principal }).principal, new Date(Date.now() + 3600e3));
    expect(await checkSession(server, session.id)).toMatchObject({ principal: { name: 'soon revoked' } });
    expect(await checkToken(server, token)).toMatchObject({ principal: { name: 'soon revoked' } });
    // Revoked through another connection (the CLI's admin path goes through the server, but any path counts).
    expect(await revokeToken(t.wh, token_id)).toBe(true);
    expect(await checkToken(server, token)).toEqual({ reason: 'revoked' });
    expect(await checkSession(server, session.id)).toEqual({ reason: 'credential' });
  });

  it('a signed-out session is refused at once', async () => {
    const { token } = await createToken(t.wh, { name: 'signs out', role: 'planner' });
    const session = await createSession(server, (await checkToken(server, token) as { principal: Principal }).principal, new Date(Date.now() + 3600e3));
    expect(await checkSession(server, session.id)).toMatchObject({ principal: { name: 'signs out' } });
    expect(await endSession(server, session.id)).toBe(true);
    expect(await checkSession(server, session.id)).toEqual({ reason: 'ended' });
  });

  it('a bad credential is never kept: it is asked about again, and a token made later works at once', async () => {
    const s = counted(server);
    expect(await checkToken(s.wh, 'cp_nope')).toEqual({ reason: 'unknown' });
    expect(await checkToken(s.wh, 'cp_nope')).toEqual({ reason: 'unknown' });
    expect(s.queries()).toBe(2);
  });

  it('is kept no longer than the credential lasts, nor than KEEP_MS', async () => {
    const p = (expires_at: string | null): Principal => ({ token_id: 't', name: 'n', role: 'planner', agencies: null, via: 'token', expires_at });
    // A second's margin: a loaded CI machine may pause between these lines.
    keepCheck(server, 'x:soon', p(new Date(Date.now() + 1_000).toISOString()), checkGeneration());
    keepCheck(server, 'x:gone', p(new Date(Date.now() - 1).toISOString()), checkGeneration());
    keepCheck(server, 'x:never', p(null), checkGeneration());
    expect(keptCheck(server, 'x:soon')).not.toBeNull();
    expect(keptCheck(server, 'x:gone')).toBeNull();
    await new Promise((r) => setTimeout(r, 1_050));
    expect(keptCheck(server, 'x:soon')).toBeNull();
    expect(keptCheck(server, 'x:never')).not.toBeNull();
    expect(KEEP_MS).toBeLessThanOrEqual(10_000);
  });

  it('asks again once KEEP_MS has passed, even for a credential that never expires', async () => {
    const { token } = await createToken(t.wh, { name: 'five seconds', role: 'planner', expires_at: null });
    const s = counted(server);
    const before = s.queries();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await checkToken(s.wh, token);
      vi.setSystemTime(Date.now() + KEEP_MS - 10);
      await checkToken(s.wh, token);
      expect(s.queries() - before).toBe(1);
      vi.setSystemTime(Date.now() + 20);
      await checkToken(s.wh, token);
      expect(s.queries() - before).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('checkToken does not keep an answer read while a token was being revoked', async () => {
    const { token } = await createToken(t.wh, { name: 'raced', role: 'planner' });
    const s = counted(server);
    const before = s.queries();
    const underWay = checkToken(s.wh, token);
    forgetCredentialChecks(); // a revocation lands while the check's query runs
    expect(await underWay).toMatchObject({ principal: { name: 'raced' } });
    await checkToken(s.wh, token);
    expect(s.queries() - before).toBe(2);
  });

  it('does not keep a check that was under way when a credential was taken away', () => {
    const p: Principal = { token_id: 't', name: 'n', role: 'planner', agencies: null, via: 'token', expires_at: null };
    const startedIn = checkGeneration();
    forgetCredentialChecks(); // a revocation lands while the check's query runs
    keepCheck(server, 'x:raced', p, startedIn);
    expect(keptCheck(server, 'x:raced')).toBeNull();
  });
});
