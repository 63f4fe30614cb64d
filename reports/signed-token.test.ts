// Signed links: only the exact signature as issued passes.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { purposeKey, signToken, verifyToken } from './signed-token.ts';

const key = purposeKey('a test secret', 'a test purpose');

describe('signed tokens', () => {
  it('round-trips the value and refuses another purpose\'s key', () => {
    const token = signToken({ a: [1, 'two'] }, key);
    expect(verifyToken(token, key)).toEqual({ ok: true, value: { a: [1, 'two'] } });
    expect(verifyToken(token, purposeKey('a test secret', 'another purpose'))).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses every other spelling of the signature, even one that decodes to the same bytes', () => {
    // The last of 43 base64url characters holds 4 bits of the HMAC and 2 spare bits, so every
    // signature has three other spellings that decode to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let twins = 0;
    for (let n = 0; n < 64; n++) {
      const [body, sig] = signToken({ n }, key).split('.');
      for (const c of alphabet) {
        if (c === sig.at(-1)) continue;
        const altered = sig.slice(0, -1) + c;
        if (Buffer.from(altered, 'base64url').equals(Buffer.from(sig, 'base64url'))) twins++;
        expect(verifyToken(`${body}.${altered}`, key)).toEqual({ ok: false, reason: 'signature' });
      }
      expect(verifyToken(`${body}.${sig}A`, key)).toEqual({ ok: false, reason: 'signature' });
    }
    expect(twins).toBe(64 * 3);
  });

  it('refuses a changed body, and says malformed for what is not a token', () => {
    const [, sig] = signToken({ scope: ['DPW'] }, key).split('.');
    const wider = Buffer.from(JSON.stringify({ scope: null })).toString('base64url');
    expect(verifyToken(`${wider}.${sig}`, key)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyToken('not a token', key)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyToken(`${wider}.${sig}.x`, key)).toEqual({ ok: false, reason: 'malformed' });
    const notJson = Buffer.from('{').toString('base64url');
    const signed = createHmac('sha256', key).update(notJson).digest('base64url');
    expect(verifyToken(`${notJson}.${signed}`, key)).toEqual({ ok: false, reason: 'malformed' });
  });
});
