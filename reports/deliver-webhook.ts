// Delivery to a webhook: a JSON POST signed with HMAC-SHA256, retried with exponential backoff.
//
// The receiver checks `X-Civic-Signature: sha256=<hex>` = HMAC-SHA256(secret, the raw body bytes)
// with a constant-time comparison (`verifyWebhookSignature` below is the reference). Every attempt
// of one delivery carries the same `X-Civic-Delivery` id, so a receiver that got a request whose
// answer was lost can tell the retry is not a second report.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-civic-signature';
export const DELIVERY_HEADER = 'x-civic-delivery';

export interface WebhookOptions {
  /** Attempts after the first (default 3: four in all). */
  retries?: number;
  /** Wait before the first retry; doubled before each next one (default 1000 ms). */
  backoffMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
}

/** The last attempt failed: how many there were, and the last status (undefined: no answer at all). */
export class WebhookError extends Error {
  constructor(message: string, readonly attempts: number, readonly status?: number) {
    super(message);
    this.name = 'WebhookError';
  }
}

export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does: recompute the HMAC of the raw body and compare in constant time. */
export function verifyWebhookSignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 5xx and 429 are the receiver's passing trouble; other 4xx will not change by asking again. */
const retryable = (status: number) => status >= 500 || status === 429 || status === 408;

export async function postWebhook(url: string, secret: string, payload: unknown, o: WebhookOptions = {}): Promise<{ status: number; attempts: number }> {
  const retries = o.retries ?? 3;
  const backoff = o.backoffMs ?? 1000;
  const timeout = o.timeoutMs ?? 10_000;
  const body = JSON.stringify(payload);
  // fetch refuses a URL with user:password in it; the receiver gets them as Basic authentication.
  const target = new URL(url);
  const basic = target.username ? Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64') : null;
  target.username = '';
  target.password = '';
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'civic-pulse-reports',
    [SIGNATURE_HEADER]: signWebhookBody(secret, body),
    [DELIVERY_HEADER]: randomUUID(),
    ...(basic ? { authorization: `Basic ${basic}` } : {}),
  };
  let last = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    let wait = backoff * 2 ** (attempt - 1);
    try {
      // No redirects: a signed report must not be forwarded somewhere the configuration did not name.
      const res = await fetch(target, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeout) });
      await res.arrayBuffer().catch(() => undefined); // drain, so the connection is reused or closed
      if (res.status >= 200 && res.status < 300) return { status: res.status, attempts: attempt };
      lastStatus = res.status;
      last = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      if (!retryable(res.status)) throw new WebhookError(`Webhook ${safeUrl(url)} answered ${last} (not retried: the receiver refused it)`, attempt, res.status);
      // A receiver that says when to come back is believed, within reason (at most a minute).
      const after = Number(res.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0) wait = Math.min(60_000, Math.max(wait, after * 1000));
    } catch (err) {
      if (err instanceof WebhookError) throw err;
      lastStatus = undefined;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      // The cause's code (ECONNREFUSED, ENOTFOUND…) says most; never the URL itself, which may hold a token.
      last = e.name === 'TimeoutError' ? `no answer within ${timeout} ms` : (e.cause?.code ?? e.cause?.message ?? e.message).replaceAll(target.href, safeUrl(url));
    }
    if (attempt <= retries) await sleep(wait);
  }
  throw new WebhookError(`Webhook ${safeUrl(url)} failed after ${retries + 1} attempt${retries ? 's' : ''}: ${last}`, retries + 1, lastStatus);
}

/** A URL for messages and records: no user:password or query (a token may be in either). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
