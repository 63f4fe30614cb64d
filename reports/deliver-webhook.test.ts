// Webhook delivery against a real HTTP server that checks the HMAC of each request's raw body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook, verifyWebhookSignature, WebhookError } from './deliver-webhook.ts';
import { startReceiver } from '../test/report-servers.ts';

const SECRET = 'webhook-test-secret';


describe('postWebhook (real HTTP receiver)', () => {
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    rx = await startReceiver(SECRET, (path, n) => {
      if (path === '/flaky') return n <= 2 ? 503 : 200; // two failures, then fine
      if (path === '/down') return 500;
      if (path === '/busy') return n === 1 ? 429 : 204;
      if (path === '/gone') return 410;
      return 200;
    });
  });
  afterAll(() => rx.close());

  it('signs the raw body with HMAC-SHA256 in X-Civic-Signature', async () => {
    const r = await postWebhook(`${rx.url}/ok`, SECRET, { report: 'weekly-summary', n: 1 });
    expect(r).toEqual({ status: 200, attempts: 1 });
    const hit = rx.hits.find((h) => h.path === '/ok')!;
    expect(hit.signatureOk).toBe(true);
    expect(JSON.parse(hit.body)).toEqual({ report: 'weekly-summary', n: 1 });
    // The receiver with another secret refuses it: the signature is really checked.
    expect(verifyWebhookSignature('another-secret', hit.body, `sha256=${'0'.repeat(64)}`)).toBe(false);
  });

  it('a wrong secret is refused by the receiver (401) and not retried', async () => {
    const err = await postWebhook(`${rx.url}/ok`, 'wrong-secret', { x: 1 }, { backoffMs: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(WebhookError);
    expect(err).toMatchObject({ attempts: 1, status: 401 });
  });

  it('retries 5xx with exponential backoff, one delivery id across attempts', async () => {
    const r = await postWebhook(`${rx.url}/flaky`, SECRET, { x: 1 }, { retries: 3, backoffMs: 40 });
    expect(r).toEqual({ status: 200, attempts: 3 });
    const hits = rx.hits.filter((h) => h.path === '/flaky');
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.delivery)).size).toBe(1);
    const gaps = [hits[1].at - hits[0].at, hits[2].at - hits[1].at];
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75); // doubled
  });

  it('retries a 429', async () => {
    expect(await postWebhook(`${rx.url}/busy`, SECRET, {}, { backoffMs: 5 })).toEqual({ status: 204, attempts: 2 });
  });

  it('throws after the last attempt, saying how many there were', async () => {
    const err = await postWebhook(`${rx.url}/down`, SECRET, {}, { retries: 2, backoffMs: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(WebhookError);
    expect(err).toMatchObject({ attempts: 3, status: 500 });
    expect(err.message).toMatch(/failed after 3 attempts: HTTP 500/);
    expect(rx.hits.filter((h) => h.path === '/down')).toHaveLength(3);
  });

  it('a 4xx other than 429/408 is not retried', async () => {
    const err = await postWebhook(`${rx.url}/gone`, SECRET, {}, { retries: 3, backoffMs: 5 }).catch((e) => e);
    expect(err).toMatchObject({ attempts: 1, status: 410 });
  });

  it('network errors are retried; the URL in the message has no credentials or query', async () => {
    const closed = await startReceiver(SECRET, () => 200);
    await closed.close();
    const err = await postWebhook(`http://user:pw@127.0.0.1:${new URL(closed.url).port}/hook?token=abc`, SECRET, {}, { retries: 1, backoffMs: 5 }).catch((e) => e);
    expect(err).toMatchObject({ attempts: 2, status: undefined });
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('pw');
    expect(err.message).not.toContain('token=abc');
  });

  it('a receiver that does not answer in time counts as a failed attempt', async () => {
    const slow = createServer(() => undefined); // never answers
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const err = await postWebhook(`http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, SECRET, {}, { retries: 1, backoffMs: 5, timeoutMs: 150 }).catch((e) => e);
      expect(err).toMatchObject({ attempts: 2 });
      expect(err.message).toContain('no answer within 150 ms');
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  });
});
