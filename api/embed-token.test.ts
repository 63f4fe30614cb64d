// Embed links: one view, one scope, until they expire.
import { describe, expect, it } from 'vitest';
import { embedKey, signEmbedToken, verifyEmbedToken, type EmbedClaims } from './embed-token.ts';
import { fileLinkKey, signFileLink } from '../reports/file-link.ts';

const secret = 'a-session-secret-of-at-least-32-characters';
const key = embedKey(secret);
const now = Date.UTC(2026, 10, 30);
const claims: EmbedClaims = { view: 'staff-overview', params: { weeks: 8, service: 'Pothole Repair' }, agencies: ['DPW'], issuer: 'manager', iat: now / 1000, exp: now / 1000 + 3600 };

describe('embed tokens', () => {
  const token = signEmbedToken(claims, key);

  it('accept the link as issued, for its own view, until it expires', () => {
    expect(verifyEmbedToken(token, 'staff-overview', key, now)).toEqual({ ok: true, claims });
    expect(verifyEmbedToken(token, 'staff-service', key, now)).toEqual({ ok: false, reason: 'view' });
    expect(verifyEmbedToken(token, 'staff-overview', key, now + 3600_000)).toEqual({ ok: false, reason: 'expired', expired_at: new Date(now + 3600_000).toISOString() });
  });

  it('refuse a wider scope, another secret, a file link, and a last character changed', () => {
    const [, sig] = token.split('.');
    const wider = Buffer.from(JSON.stringify({ ...claims, agencies: null })).toString('base64url');
    expect(verifyEmbedToken(`${wider}.${sig}`, 'staff-overview', key, now)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyEmbedToken(token, 'staff-overview', embedKey('another-secret-of-at-least-32-characters!'), now)).toEqual({ ok: false, reason: 'signature' });
    const fileLink = signFileLink({ run: 'r', file: 0, exp: now / 1000 + 60 }, fileLinkKey(secret));
    expect(verifyEmbedToken(fileLink, 'staff-overview', key, now)).toEqual({ ok: false, reason: 'signature' });
    // The three other spellings of the last character that decode to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const first = alphabet.indexOf(token.at(-1)!) & ~3;
    const twins = [...alphabet.slice(first, first + 4)].filter((c) => c !== token.at(-1));
    expect(twins).toHaveLength(3);
    for (const c of twins) {
      expect(Buffer.from(sig.slice(0, -1) + c, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
      expect(verifyEmbedToken(token.slice(0, -1) + c, 'staff-overview', key, now)).toEqual({ ok: false, reason: 'signature' });
    }
  });

  it('call a signed value that is not claims malformed', () => {
    expect(verifyEmbedToken(signEmbedToken(null as unknown as EmbedClaims, key), 'staff-overview', key, now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
