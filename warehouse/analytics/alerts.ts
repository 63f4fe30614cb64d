// Alerts (issue 14, item 6): subscriptions to the findings the dashboard shows, and the state
// that makes each one go out once. Nothing here defines a finding: trends and anomalies are
// computeFindings' (the /api/trends answer the overview's Findings panel shows: 52 weeks, by
// service and by area, false discovery rate 5%), and "under target" is computeOverview's
// `status` (the overview's headline and worst-first tables, 12 weeks). This module only keys
// them, keeps their episodes, and says which view of the dashboard shows each.
//
// State per subscription and finding key (alert_events, migration 013): a finding that appears
// opens an episode (first_seen_at) that is to be sent; once sent (sent_at) it is not sent again
// while it stays open; an evaluation that no longer finds it clears it (cleared_at); if it comes
// back, a new episode opens and is sent again. A key is kind|service|area|direction — never the
// sentence, whose figures change with every batch.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Query, Warehouse } from '../db.ts';
import { CivicError } from '../errors.ts';
import type { CaseFilter, CaseScope } from '../queries/case-predicates.ts';
import { NO_AREA } from '../queries/case-predicates.ts';
import type { SeriesGroup } from '../queries/series-sql.ts';
import * as q from '../queries/alerts-sql.ts';
import { computeFindings, type AnomalyFinding, type FindingsResult, type TrendFinding } from './findings.ts';
import { computeOverview, type TargetRow } from './overview.ts';
import { listDimensions, resolveSelection, type Dimensions } from './dimensions.ts';
import { memoByData, memoKey } from './memo.ts';
import { resolveWindow } from './window.ts';
import { areaPhrase, DEFAULT_MIN_DENOMINATOR, formatShare } from './format.ts';
import type { TargetsConfig } from './targets.ts';

export const ALERT_KINDS = ['anomaly', 'trend', 'below_target'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
/** The dashboard's filter names a subscription may narrow by (its scope). */
export const ALERT_FILTER_NAMES = ['service', 'service_group', 'agency', 'area'] as const;
export type AlertFilter = Partial<Record<(typeof ALERT_FILTER_NAMES)[number], string>>;

/** The windows the dashboard's overview reads them over (dashboard/src/routes/+page.svelte). */
export const FINDINGS_WEEKS = 52;
export const OVERVIEW_WEEKS = 12;
/** An anomaly is news while its last day is among the window's last this many days. */
export const DEFAULT_ANOMALY_DAYS = 7;

export interface AlertSubscription {
  subscription_id: string;
  owner_id: string;
  owner_name: string;
  owner_role: string;
  agencies: string[] | null;
  filter: AlertFilter;
  area_kind: string;
  kinds: AlertKind[];
  channel: 'email' | 'webhook';
  target: string;
  created_at: string;
  last_evaluated_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
}

export type AlertEventStatus = 'pending' | 'failed' | 'sent' | 'cleared' | 'cleared unsent';

export interface AlertEvent {
  event_id: number;
  subscription_id: string;
  finding_key: string;
  kind: AlertKind;
  sentence: string;
  link: string;
  detail: Record<string, unknown>;
  data_as_of: string;
  first_seen_at: string;
  last_seen_at: string;
  sent_at: string | null;
  attempts: number;
  last_attempt_at: string | null;
  last_error: string | null;
  cleared_at: string | null;
  status: AlertEventStatus;
}

/** A finding as an alert sees it: its stable key, its sentence and the dashboard view that shows it. */
export interface AlertFinding {
  key: string;
  kind: AlertKind;
  service: string | null;
  area: string | null;
  sentence: string;
  /** Path and query of the dashboard view, e.g. `/service?service=POTHOLE&area=D4&area_kind=district`. */
  view: string;
  detail: Record<string, unknown>;
}

interface SubscriptionRow extends Omit<AlertSubscription, 'filter' | 'kinds' | 'agencies'> {
  filter: string;
  kinds: string[];
  agencies: string[] | null;
  deleted_at: string | null;
  webhook_secret?: string | null;
}

const toSubscription = (r: SubscriptionRow): AlertSubscription & { webhook_secret?: string | null } => ({
  subscription_id: r.subscription_id,
  owner_id: r.owner_id,
  owner_name: r.owner_name,
  owner_role: r.owner_role,
  agencies: r.agencies,
  filter: JSON.parse(r.filter) as AlertFilter,
  area_kind: r.area_kind,
  kinds: r.kinds as AlertKind[],
  channel: r.channel,
  target: r.target,
  created_at: r.created_at,
  last_evaluated_at: r.last_evaluated_at,
  last_error: r.last_error,
  last_error_at: r.last_error_at,
  ...(r.webhook_secret !== undefined ? { webhook_secret: r.webhook_secret } : {}),
});

type EventRow = Omit<AlertEvent, 'detail' | 'status'> & { detail: string };

const statusOf = (e: EventRow): AlertEventStatus =>
  e.cleared_at ? (e.sent_at ? 'cleared' : 'cleared unsent') : e.sent_at ? 'sent' : e.attempts > 0 ? 'failed' : 'pending';

const toEvent = (r: EventRow): AlertEvent => ({ ...r, event_id: Number(r.event_id), attempts: Number(r.attempts), detail: JSON.parse(r.detail) as Record<string, unknown>, status: statusOf(r) });

export interface NewSubscription {
  owner: { token_id: string; name: string; role: string; agencies: readonly string[] | null };
  filter: AlertFilter;
  area_kind?: string;
  kinds: readonly AlertKind[];
  channel: { email: string } | { webhook: string };
  /** The jurisdiction's zone (the scope is checked against the data over the overview's window). */
  timezone: string;
}

/**
 * Checks the scope against the data as the KPI routes do (the case predicates: an unknown name, or
 * an agency or service outside the owner's agencies, is a 400 naming the parameter) and stores
 * the subscription with the owner's scope. A webhook gets a signing secret, returned this once.
 */
export async function createSubscription(wh: Warehouse, s: NewSubscription): Promise<{ subscription: AlertSubscription; webhook_secret: string | null }> {
  const kinds = [...new Set(s.kinds)];
  if (kinds.length === 0) throw new CivicError('kinds must name at least one of anomaly, trend, below_target', { status: 400, parameter: 'body/kinds' });
  const filter: AlertFilter = {};
  for (const name of ALERT_FILTER_NAMES) if (s.filter[name] !== undefined) filter[name] = s.filter[name];
  const scope: CaseScope = { agencies: s.owner.agencies };
  const window = await resolveWindow(wh, { weeks: OVERVIEW_WEEKS }, s.timezone);
  const sel = await resolveSelection(wh, window, { filter: filter as CaseFilter, area_kind: s.area_kind, scope }).catch((err: unknown) => {
    // The checker names query parameters; here they are the body's.
    if (err instanceof CivicError && err.parameter?.startsWith('querystring/')) throw new CivicError(err.message, { status: 400, parameter: err.parameter.replace('querystring/', 'body/') });
    throw err;
  });
  const id = randomUUID();
  const secret = 'webhook' in s.channel ? randomBytes(32).toString('base64url') : null;
  const ins = q.insertSubscription({
    subscription_id: id,
    owner_id: s.owner.token_id,
    owner_name: s.owner.name,
    owner_role: s.owner.role,
    agencies: s.owner.agencies,
    filter: JSON.stringify(filter),
    area_kind: sel.area_kind,
    kinds,
    channel: 'email' in s.channel ? 'email' : 'webhook',
    target: 'email' in s.channel ? s.channel.email : s.channel.webhook,
    webhook_secret: secret,
  });
  await wh.run(ins.sql, ins.params);
  return { subscription: (await getSubscription(wh, id))!, webhook_secret: secret };
}

/** Live subscriptions: one owner's, or every one (owner null, for admins and the evaluator). */
export async function listSubscriptions(wh: Warehouse, owner: string | null): Promise<AlertSubscription[]> {
  const x = q.selectSubscriptions(owner);
  return (await wh.all<SubscriptionRow>(x.sql, x.params)).map(toSubscription);
}

export async function getSubscription(wh: Warehouse, id: string): Promise<AlertSubscription | null> {
  const x = q.selectSubscription(id);
  const r = await wh.one<SubscriptionRow>(x.sql, x.params);
  if (!r) return null;
  const { webhook_secret: _secret, ...sub } = toSubscription(r);
  return sub;
}

/** Every live subscription with its webhook secret: for the evaluator, never for a client. */
export async function subscriptionsToEvaluate(wh: Warehouse): Promise<(AlertSubscription & { webhook_secret: string | null })[]> {
  const x = q.selectSubscriptionsWithSecrets();
  return (await wh.all<SubscriptionRow>(x.sql, x.params)).map((r) => ({ ...toSubscription(r), webhook_secret: r.webhook_secret ?? null }));
}

/** Deletes (ends) a subscription; its episodes stay readable in the warehouse. */
export async function deleteSubscription(wh: Warehouse, id: string, now = new Date().toISOString()): Promise<boolean> {
  const x = q.markDeleted(id, now);
  return (await wh.changed(x.sql, x.params)) > 0;
}

export async function subscriptionEvents(wh: Warehouse, id: string, limit = 1000): Promise<AlertEvent[]> {
  const x = q.selectEvents(id, limit);
  return (await wh.all<EventRow>(x.sql, x.params)).map(toEvent);
}

export async function recordEvaluation(wh: Warehouse, id: string, error: string | null, now = new Date().toISOString()): Promise<void> {
  const x = q.markEvaluated(id, now, error);
  await wh.run(x.sql, x.params);
}

/** One attempt to send these episodes: sent (error null), or not and why (they stay to be sent). */
export async function recordAttempt(wh: Warehouse, eventIds: readonly number[], error: string | null, now = new Date().toISOString()): Promise<void> {
  if (eventIds.length === 0) return;
  const x = q.markAttempt(eventIds, now, error);
  await wh.run(x.sql, x.params);
}

// ---------------------------------------------------------------------------------------------
// Findings

export interface AlertFindingsOptions {
  timezone: string;
  /** What "now" is (default: the data's newest event, as the dashboard). */
  as_of?: string;
  targets?: TargetsConfig;
  min_denominator?: number;
  anomaly_days?: number;
}

export interface AlertFindings { as_of: string; findings: AlertFinding[] }

const keyOf = (kind: AlertKind, service: string | null, area: string | null, direction = '') => [kind, service ?? '', area ?? '', direction].join('|');
const dayMinus = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The dashboard's query string for a view: the subscription's filters, then the finding's own. */
function viewOf(path: '/' | '/service' | '/area', sub: Pick<AlertSubscription, 'filter' | 'area_kind'>, own: { service?: string; area?: string }): string {
  const p = new URLSearchParams();
  const merged: Record<string, string | undefined> = { ...sub.filter, ...own };
  for (const k of ALERT_FILTER_NAMES) if (merged[k]) p.set(k, merged[k]!);
  if (merged.area) p.set('area_kind', sub.area_kind);
  const s = p.toString();
  return `${path}${s ? `?${s}` : ''}`;
}

/** What the dashboard's filters take for a finding's labels: a service's code, an area's id. */
function idsOf(dims: Dimensions, areaKind: string) {
  const codes = new Map<string, Set<string>>();
  for (const s of dims.services) if (s.code) codes.set(s.name, (codes.get(s.name) ?? new Set()).add(s.code));
  const areaIds = new Map<string, string>();
  for (const a of dims.areas) if (a.kind === areaKind && !areaIds.has(a.name)) areaIds.set(a.name, a.id);
  return {
    service: (name: string) => (codes.get(name)?.size === 1 ? [...codes.get(name)!][0] : name),
    area: (name: string) => (name === NO_AREA ? name : (areaIds.get(name) ?? name)),
  };
}

function linkFor(sub: AlertSubscription, ids: ReturnType<typeof idsOf>, service: string | null, area: string | null): string {
  // As the dashboard's Findings panel links them (dashboard/src/lib/components/FindingsList.svelte).
  if (service) return viewOf('/service', sub, { service: ids.service(service), ...(area ? { area: ids.area(area) } : {}) });
  if (area) return viewOf('/area', sub, { area: ids.area(area) });
  return viewOf('/', sub, {});
}

/** The findings of one subscription's scope now: the dashboard's, keyed and linked. */
export async function alertFindings(wh: Warehouse, sub: AlertSubscription, o: AlertFindingsOptions): Promise<AlertFindings> {
  const scope: CaseScope = { agencies: sub.agencies };
  const filter = sub.filter as CaseFilter;
  const dims = await listDimensions(wh, scope);
  const ids = idsOf(dims, sub.area_kind);
  const out = new Map<string, AlertFinding>();
  const add = (f: AlertFinding) => {
    if (!out.has(f.key)) out.set(f.key, f);
  };
  let asOf: string | null = null;

  if (sub.kinds.includes('trend') || sub.kinds.includes('anomaly')) {
    const window = await resolveWindow(wh, { weeks: FINDINGS_WEEKS, as_of: o.as_of }, o.timezone);
    asOf = window.as_of;
    const recentFrom = dayMinus(window.to, (o.anomaly_days ?? DEFAULT_ANOMALY_DAYS) - 1);
    for (const by of [['service'], ['area']] as SeriesGroup[][]) {
      // The /api/trends question, under its memo key: the answer the dashboard has already shown.
      const fo = { window, by, period: 'week' as const, alpha: 0.05, filter, area_kind: sub.area_kind, scope };
      const r: FindingsResult = await memoByData(wh, memoKey('trends', fo), () => computeFindings(wh, fo), (x) => x.series_tested);
      if (sub.kinds.includes('trend')) {
        for (const t of r.trends) add(trendFinding(sub, ids, t));
      }
      if (sub.kinds.includes('anomaly')) {
        // Newest first, so a series with two recent runs is alerted on its latest.
        const recent = r.anomalies.filter((a) => a.to >= recentFrom).sort((a, b) => (a.to < b.to ? 1 : -1));
        for (const a of recent) add(anomalyFinding(sub, ids, a));
      }
    }
  }

  if (sub.kinds.includes('below_target')) {
    const window = await resolveWindow(wh, { weeks: OVERVIEW_WEEKS, as_of: o.as_of }, o.timezone);
    asOf ??= window.as_of;
    const ov = await computeOverview(wh, window, filter, { area_kind: sub.area_kind, scope, targets: o.targets, min_denominator: o.min_denominator ?? DEFAULT_MIN_DENOMINATOR });
    const period = { from: ov.from, to: ov.to };
    const h = ov.headline.find((x) => x.name === 'on_time_rate')!;
    if (h.status === 'below target' && h.value !== null && h.target !== null && h.target !== undefined) {
      add(belowTarget(sub, null, null, linkFor(sub, ids, null, null), scopeWords(sub, dims), { on_time: h.numerator!, on_time_denominator: h.denominator!, on_time_rate: h.value, target: h.target }, period));
    }
    // A scope of one service (or one area) has its own row in the table: the headline says it.
    if (!sub.filter.service) {
      for (const r of ov.worst_services) if (r.status === 'below target') add(belowTarget(sub, r.service, null, linkFor(sub, ids, r.service, null), r.service, r, period));
    }
    if (!sub.filter.area) {
      for (const r of ov.worst_areas) if (r.status === 'below target') add(belowTarget(sub, null, r.area, linkFor(sub, ids, null, r.area), r.area === NO_AREA ? r.area : areaPhrase(r.area, sub.area_kind), r, period));
    }
  }
  if (asOf === null) asOf = (await resolveWindow(wh, { weeks: OVERVIEW_WEEKS, as_of: o.as_of }, o.timezone)).as_of;
  return { as_of: asOf, findings: [...out.values()] };
}

function trendFinding(sub: AlertSubscription, ids: ReturnType<typeof idsOf>, t: TrendFinding): AlertFinding {
  return {
    key: keyOf('trend', t.service, t.area, t.direction),
    kind: 'trend',
    service: t.service,
    area: t.area,
    sentence: t.sentence,
    view: linkFor(sub, ids, t.service, t.area),
    detail: { direction: t.direction, per_week: t.per_week, since: t.since, p: t.p, q: t.q },
  };
}

function anomalyFinding(sub: AlertSubscription, ids: ReturnType<typeof idsOf>, a: AnomalyFinding): AlertFinding {
  return {
    key: keyOf('anomaly', a.service, a.area),
    kind: 'anomaly',
    service: a.service,
    area: a.area,
    sentence: a.sentence,
    view: linkFor(sub, ids, a.service, a.area),
    detail: { from: a.from, to: a.to, observed: a.observed, expected: a.expected, ratio: a.ratio, p: a.p },
  };
}

function belowTarget(
  sub: AlertSubscription,
  service: string | null,
  area: string | null,
  view: string,
  subject: string,
  r: Pick<TargetRow, 'on_time' | 'on_time_denominator' | 'on_time_rate' | 'target'>,
  period: { from: string; to: string },
): AlertFinding {
  const day = (d: string) => new Date(`${d}T00:00:00Z`).toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
  return {
    key: keyOf('below_target', service, area),
    kind: 'below_target',
    service,
    area,
    sentence: `${subject[0].toUpperCase()}${subject.slice(1)}: ${formatShare(r.on_time, r.on_time_denominator)} of judged requests opened ${day(period.from)} to ${day(period.to)} were closed on time, under the target of ${pct(r.target!)}.`,
    view,
    detail: { on_time_rate: r.on_time_rate, on_time: r.on_time, on_time_denominator: r.on_time_denominator, target: r.target, from: period.from, to: period.to },
  };
}

/** The subscription's scope in words: "Pothole Repair in district 4", "agency Streets", "all requests". */
export function scopeWords(sub: Pick<AlertSubscription, 'filter' | 'area_kind'>, dims: Dimensions | null): string {
  const f = sub.filter;
  const parts: string[] = [];
  if (f.service) parts.push(dims?.services.find((s) => s.code === f.service || s.name === f.service)?.name ?? f.service);
  if (f.service_group) parts.push(`service group ${f.service_group}`);
  if (f.agency) parts.push(`agency ${f.agency}`);
  let text = parts.length ? parts.join(', ') : 'all requests';
  if (f.area) {
    const name = dims?.areas.find((a) => a.kind === sub.area_kind && (a.id === f.area || a.name === f.area))?.name ?? f.area;
    text += ` in ${areaPhrase(name, sub.area_kind)}`;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// The state machine

export interface Reconciled {
  /** Episodes opened by this evaluation. */
  opened: AlertEvent[];
  /** Episodes this evaluation no longer found. */
  cleared: AlertEvent[];
  /** Open episodes not yet sent (new ones and ones whose sending failed before), oldest first. */
  to_send: AlertEvent[];
}

/**
 * Brings a subscription's episodes in line with the findings of one evaluation, in one
 * transaction: a finding with no open episode opens one; an open episode whose finding is gone is
 * cleared; the rest are seen again. Nothing is marked sent here: that is `recordAttempt`, after a
 * send that worked. `link` turns a view into the address the message carries.
 */
export async function reconcile(wh: Warehouse, subscriptionId: string, found: AlertFindings, link: (view: string) => string, now = new Date().toISOString()): Promise<Reconciled> {
  return wh.transaction(async () => {
    const openQ = q.selectOpenEvents(subscriptionId);
    const open = (await wh.all<EventRow>(openQ.sql, openQ.params)).map(toEvent);
    const byKey = new Map(open.map((e) => [e.finding_key, e]));
    const keys = new Set(found.findings.map((f) => f.key));
    const seen = open.filter((e) => keys.has(e.finding_key));
    const gone = open.filter((e) => !keys.has(e.finding_key));
    if (seen.length) await run(wh, q.markSeen(seen.map((e) => e.event_id), now));
    if (gone.length) await run(wh, q.markCleared(gone.map((e) => e.event_id), now));
    for (const f of found.findings) {
      if (byKey.has(f.key)) continue;
      await run(wh, q.insertEvent({ subscription_id: subscriptionId, finding_key: f.key, kind: f.kind, sentence: f.sentence, link: link(f.view), detail: JSON.stringify(f.detail), data_as_of: found.as_of, now }));
    }
    const after = (await wh.all<EventRow>(openQ.sql, openQ.params)).map(toEvent);
    const before = new Set(open.map((e) => e.event_id));
    return {
      opened: after.filter((e) => !before.has(e.event_id)),
      cleared: gone.map((e) => ({ ...e, cleared_at: now, status: e.sent_at ? 'cleared' : 'cleared unsent' })),
      to_send: after.filter((e) => e.sent_at === null),
    };
  });
}

const run = (wh: Warehouse, x: Query) => wh.run(x.sql, x.params);
