// The alert evaluator: after each batch lands (the data version changes) and on a timer, every
// live subscription's findings are computed (warehouse/analytics/alerts.ts: the dashboard's own
// findings and target statuses), reconciled with the episodes already known, and the new ones
// sent — one message per subscription and evaluation, listing each new finding with a link to the
// dashboard view that shows it — by e-mail (SMTP) or a signed webhook.
//
// What may fail, and what then: an evaluation that fails (a query, a time limit) is logged as an
// error on the subscription and tried again at the next retry (backed off: retryDelayMs); it
// changes no episode, so nothing is marked sent. A send that fails leaves its episodes unsent with
// the error and attempt counted; the next retry sends them again (and only them: an episode once
// sent is never sent again).
import type { Warehouse } from '../warehouse/db.ts';
import { dataVersion, listDimensions } from '../warehouse/analytics/dimensions.ts';
import {
  alertFindings,
  reconcile,
  recordAttempt,
  recordEvaluation,
  scopeWords,
  subscriptionsToEvaluate,
  type AlertEvent,
  type AlertSubscription,
} from '../warehouse/analytics/alerts.ts';
import type { TargetsConfig } from '../warehouse/analytics/targets.ts';
import { sendEmail, type SmtpSettings } from './deliver-email.ts';
import { postWebhook, type WebhookOptions } from './deliver-webhook.ts';

export interface AlertContext {
  jurisdiction: string;
  timezone: string;
  /** Where the dashboard is: reports.public_url, else http://localhost:<port>. */
  baseUrl: string;
  targets?: TargetsConfig;
  minDenominator?: number;
  anomalyDays?: number;
}

export interface AlertMessage { subject: string; text: string; html: string }

/** How a message leaves: throws when it did not. */
export interface AlertSender {
  email(to: string, m: AlertMessage): Promise<void>;
  webhook(url: string, secret: string, payload: AlertPayload): Promise<void>;
}

export interface AlertPayload {
  type: 'civic_pulse.alert';
  subscription_id: string;
  jurisdiction: string;
  scope: { filter: AlertSubscription['filter']; area_kind: string; agencies: string[] | null; description: string };
  data_as_of: string;
  findings: { event_id: number; key: string; kind: AlertEvent['kind']; sentence: string; link: string; first_seen_at: string; detail: Record<string, unknown> }[];
}

type Log = { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void };
const SILENT: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The senders of reports/deliver-*.ts; without SMTP settings an e-mail fails (and stays unsent) saying so. */
export function alertSender(smtp: SmtpSettings | null, webhook: WebhookOptions = {}): AlertSender {
  return {
    async email(to, m) {
      if (!smtp) throw new Error('No SMTP server is configured (reports.smtp): the alert stays unsent until one is');
      const r = await sendEmail(smtp, { to: [to], subject: m.subject, text: m.text, html: m.html });
      if (r.rejected.length) throw new Error(`The SMTP server refused ${r.rejected.map((x) => `${x.address}: ${x.error}`).join('; ')}`);
    },
    async webhook(url, secret, payload) {
      await postWebhook(url, secret, payload, webhook);
    },
  };
}

const KIND_LABEL: Record<AlertEvent['kind'], string> = { anomaly: 'Unusual volume', trend: 'Trend', below_target: 'Under target' };
const KIND_WORDS: Record<AlertEvent['kind'], string> = { anomaly: 'unusual volume', trend: 'trends', below_target: 'on-time rates under target' };

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The address of a dashboard view: the base URL (without a trailing slash) and the view's path and query. */
export const linkTo = (baseUrl: string, view: string) => `${baseUrl.replace(/\/+$/, '')}${view}`;

/** One message for the new findings of one subscription. */
export function alertMessage(sub: AlertSubscription, events: readonly AlertEvent[], ctx: Pick<AlertContext, 'jurisdiction'>, scope: string, dataAsOf: string): AlertMessage {
  const n = events.length;
  const subject = `Civic Pulse alert: ${n === 1 ? `${KIND_LABEL[events[0].kind].toLowerCase()}` : `${n} new findings`} for ${scope} (${ctx.jurisdiction})`;
  const why = `You get this because you subscribed to ${sub.kinds.map((k) => KIND_WORDS[k]).join(', ')} for ${scope} (subscription ${sub.subscription_id}). Each finding is sent once; you will hear of it again only if it clears and comes back.`;
  const asOf = `Data as of ${dataAsOf.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}.`;
  const text = [
    `${n === 1 ? 'A new finding' : `${n} new findings`} for ${scope} in ${ctx.jurisdiction}. ${asOf}`,
    '',
    ...events.flatMap((e) => [`${KIND_LABEL[e.kind]}: ${e.sentence}`, `See it: ${e.link}`, '']),
    why,
  ].join('\n');
  const html = [
    '<!doctype html><html lang="en"><body>',
    `<p>${escapeHtml(`${n === 1 ? 'A new finding' : `${n} new findings`} for ${scope} in ${ctx.jurisdiction}. ${asOf}`)}</p>`,
    '<ul>',
    ...events.map((e) => `<li><strong>${escapeHtml(KIND_LABEL[e.kind])}:</strong> ${escapeHtml(e.sentence)} <a href="${escapeHtml(e.link)}">See it on the dashboard</a></li>`),
    '</ul>',
    `<p>${escapeHtml(why)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

export interface EvaluationSummary {
  /** Subscriptions whose findings were computed. */
  evaluated: number;
  /** Subscriptions whose evaluation failed (nothing of theirs changed). */
  failed: { subscription_id: string; error: string }[];
  /** Messages sent, and the episodes they carried. */
  messages: number;
  sent: number;
  opened: number;
  cleared: number;
  /** Episodes still to be sent (their send failed): the next retry tries again. */
  unsent: number;
  /** The subscriptions those episodes belong to. */
  unsent_subscriptions: string[];
}

export interface EvaluateOptions {
  /** What "now" is for the data (tests); default: the data's newest event, as the dashboard. */
  as_of?: string;
  log?: Log;
}

/** One evaluation of every live subscription. */
export async function evaluateAlerts(wh: Warehouse, ctx: AlertContext, sender: AlertSender, o: EvaluateOptions = {}): Promise<EvaluationSummary> {
  const log = o.log ?? SILENT;
  const summary: EvaluationSummary = { evaluated: 0, failed: [], messages: 0, sent: 0, opened: 0, cleared: 0, unsent: 0, unsent_subscriptions: [] };
  for (const sub of await subscriptionsToEvaluate(wh)) {
    let found: Awaited<ReturnType<typeof alertFindings>>;
    let state: Awaited<ReturnType<typeof reconcile>>;
    try {
      found = await alertFindings(wh, sub, { timezone: ctx.timezone, as_of: o.as_of, targets: ctx.targets, min_denominator: ctx.minDenominator, anomaly_days: ctx.anomalyDays });
      state = await reconcile(wh, sub.subscription_id, found, (view) => linkTo(ctx.baseUrl, view));
      await recordEvaluation(wh, sub.subscription_id, null);
    } catch (err) {
      const message = (err as Error).message;
      summary.failed.push({ subscription_id: sub.subscription_id, error: message });
      log.error({ err, subscription_id: sub.subscription_id }, 'alert evaluation failed: nothing was sent or cleared, it is tried again at the next retry');
      await recordEvaluation(wh, sub.subscription_id, message).catch(() => undefined);
      continue;
    }
    summary.evaluated++;
    summary.opened += state.opened.length;
    summary.cleared += state.cleared.length;
    if (state.cleared.length) log.info({ subscription_id: sub.subscription_id, cleared: state.cleared.map((e) => e.finding_key) }, 'alert findings cleared: they rearm');
    if (state.to_send.length === 0) continue;
    const ids = state.to_send.map((e) => e.event_id);
    const scope = scopeWords(sub, await listDimensions(wh, { agencies: sub.agencies }));
    try {
      if (sub.channel === 'email') {
        await sender.email(sub.target, alertMessage(sub, state.to_send, ctx, scope, found.as_of));
      } else {
        if (!sub.webhook_secret) throw new Error('The subscription has no webhook secret');
        await sender.webhook(sub.target, sub.webhook_secret, {
          type: 'civic_pulse.alert',
          subscription_id: sub.subscription_id,
          jurisdiction: ctx.jurisdiction,
          scope: { filter: sub.filter, area_kind: sub.area_kind, agencies: sub.agencies, description: scope },
          data_as_of: found.as_of,
          findings: state.to_send.map((e) => ({ event_id: e.event_id, key: e.finding_key, kind: e.kind, sentence: e.sentence, link: e.link, first_seen_at: e.first_seen_at, detail: e.detail })),
        });
      }
    } catch (err) {
      const message = (err as Error).message;
      summary.unsent += ids.length;
      summary.unsent_subscriptions.push(sub.subscription_id);
      log.error({ err, subscription_id: sub.subscription_id, channel: sub.channel, findings: ids.length }, 'alert not sent: it stays unsent and is tried again at the next retry');
      await recordAttempt(wh, ids, message);
      continue;
    }
    await recordAttempt(wh, ids, null);
    summary.messages++;
    summary.sent += ids.length;
    log.info({ subscription_id: sub.subscription_id, channel: sub.channel, findings: state.to_send.map((e) => e.finding_key) }, 'alert sent');
  }
  return summary;
}

export interface AlertEvaluator {
  /** Evaluates now (after any evaluation in progress: two never overlap). */
  runNow(o?: Omit<EvaluateOptions, 'log'>): Promise<EvaluationSummary>;
  stop(): Promise<void>;
}

export interface EvaluatorOptions {
  /** Asked at each evaluation: an ingest since the start may have recorded the jurisdiction's zone. */
  context: () => Promise<AlertContext>;
  sender: AlertSender;
  /** How often the data version is looked at (a new batch is evaluated within this). */
  pollSeconds: number;
  /** Evaluated at least this often even when no batch lands (anomalies age, sends are retried). */
  intervalMinutes: number;
  log?: Log;
}

/**
 * How long after an evaluation that left a failure or an unsent alert behind the next retry waits:
 * one poll after the first, doubling after each further one, never longer than the interval. A
 * subscription that fails every time (its service is gone) or a receiver down for hours would
 * otherwise re-run every subscription's year of findings at every poll.
 */
export function retryDelayMs(failuresInARow: number, pollMs: number, intervalMs: number): number {
  if (failuresInARow <= 0) return intervalMs;
  return Math.min(pollMs * 2 ** Math.min(failuresInARow - 1, 30), intervalMs);
}

/**
 * When the evaluator may run again without new data: after the interval when the last evaluation
 * left nothing behind; else after retryDelayMs of the evaluations in a row that left the same
 * failures behind. A new failure (another subscription's webhook going down beside one whose
 * service is gone) is retried at the next poll, not after the back-off the old one built up.
 */
export class RetryBackoff {
  private inARow = 0;
  private failing = '';
  constructor(private readonly pollMs: number, private readonly intervalMs: number) {}

  /** After an evaluation: what it left behind, one line per failure in a stable order ('' = nothing). */
  settle(left: string): void {
    this.inARow = left === '' ? 0 : left === this.failing ? this.inARow + 1 : 1;
    this.failing = left;
  }

  /** How long after the last evaluation the next one is due. */
  get waitMs(): number {
    return retryDelayMs(this.inARow, this.pollMs, this.intervalMs);
  }
}

/**
 * Runs the evaluator in the server: every `pollSeconds` it evaluates when the data version has
 * changed (a batch landed), when `intervalMinutes` have passed, or when the last evaluation left
 * a failure or an unsent alert behind (a retry, backed off by `retryDelayMs`). The first tick
 * comes at once.
 */
export function startAlertEvaluator(wh: Warehouse, o: EvaluatorOptions): AlertEvaluator {
  const log = o.log ?? SILENT;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let lastVersion: string | null = null;
  let lastRun = 0;
  const backoff = new RetryBackoff(o.pollSeconds * 1000, o.intervalMinutes * 60_000);

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const evaluate = (opts: Omit<EvaluateOptions, 'log'> = {}) => serial(async () => evaluateAlerts(wh, await o.context(), o.sender, { ...opts, log }));

  let ticking: Promise<void> | null = null;
  const tick = async () => {
    timer = null;
    try {
      const version = await dataVersion(wh);
      if (stopped) return;
      if (version !== lastVersion || Date.now() - lastRun >= backoff.waitMs) {
        // Whatever the outcome, this version counts as evaluated: a failure, even one that throws,
        // waits for its retry instead of running again at every poll.
        lastVersion = version;
        try {
          const s = await evaluate();
          const left = [...s.failed.map((f) => `failed ${f.subscription_id}`), ...s.unsent_subscriptions.map((id) => `unsent ${id}`)].sort();
          backoff.settle(left.join('\n'));
          if (s.messages || s.failed.length || s.unsent) log.info({ ...s, failed: s.failed.length }, 'alerts evaluated');
        } catch (err) {
          backoff.settle('the evaluation threw');
          log.error({ err }, 'alert evaluation failed: tried again after a back-off');
        } finally {
          // The back-off runs from the end of an evaluation, however long it took.
          lastRun = Date.now();
        }
      }
    } catch (err) {
      // The data version could not be read: nothing was evaluated, so nothing backs off; the next poll reads it again.
      log.error({ err }, 'alert evaluator: the data version could not be read; tried again at the next poll');
    } finally {
      if (!stopped) schedule(o.pollSeconds * 1000);
    }
  };
  const schedule = (ms: number) => {
    timer = setTimeout(() => void (ticking = tick()), ms);
    timer.unref();
  };
  schedule(0);

  return {
    runNow: evaluate,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      await chain;
    },
  };
}
