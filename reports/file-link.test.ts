// Signed file links: what is signed cannot change, an expired link says when, keys differ by purpose.
import { describe, expect, it } from 'vitest';
import { fileLinkKey, fileLinkUrl, signFileLink, verifyFileLink } from './file-link.ts';
import { embedKey } from '../api/embed-token.ts';

const key = fileLinkKey('a-session-secret-of-at-least-32-characters');

describe('file links', () => {
  const exp = Math.floor(Date.UTC(2030, 0, 1) / 1000);
  const token = signFileLink({ run: '20261116T120000Z-1a2b3c4d', file: 3, exp }, key);

  it('round-trips, short enough for one path segment', () => {
    expect(verifyFileLink(token, key, Date.UTC(2029, 0, 1))).toEqual({ ok: true, claims: { run: '20261116T120000Z-1a2b3c4d', file: 3, exp } });
    expect(token.length).toBeLessThan(200); // the router's cap on one path parameter
    expect(fileLinkUrl('https://civic.example/', token)).toBe(`https://civic.example/api/reports/files/${token}`);
  });

  it('refuses a changed, foreign-key or expired link, saying which', () => {
    const other = signFileLink({ run: '20261116T120000Z-1a2b3c4d', file: 4, exp }, key);
    expect(verifyFileLink(`${other.split('.')[0]}.${token.split('.')[1]}`, key, Date.UTC(2029, 0, 1))).toMatchObject({ ok: false, reason: 'signature' });
    expect(verifyFileLink(token, embedKey('a-session-secret-of-at-least-32-characters'), Date.UTC(2029, 0, 1))).toMatchObject({ ok: false, reason: 'signature' });
    expect(verifyFileLink(token, key, Date.UTC(2031, 0, 1))).toEqual({ ok: false, reason: 'expired', expired_at: '2030-01-01T00:00:00.000Z' });
    expect(verifyFileLink('nonsense', key)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
