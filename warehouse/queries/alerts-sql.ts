// SQL of the alert subscriptions and their episodes (migration 013): pure builders returning
// { sql, params }, every value bound. warehouse/analytics/alerts.ts runs them.
import type { Params, Query } from '../db.ts';

const ISO = `'%Y-%m-%dT%H:%M:%S.%gZ'`;

/** A list of strings as bound values (`[$p0, $p1]::VARCHAR[]`), or NULL. */
function listOf(prefix: string, values: readonly string[] | null): { sql: string; params: Params } {
  if (values === null) return { sql: 'NULL::VARCHAR[]', params: {} };
  if (values.length === 0) return { sql: '[]::VARCHAR[]', params: {} };
  return { sql: `[${values.map((_, i) => `$${prefix}${i}`).join(', ')}]::VARCHAR[]`, params: Object.fromEntries(values.map((v, i) => [`${prefix}${i}`, v])) };
}

export const SUBSCRIPTION_COLUMNS = `subscription_id, owner_id, owner_name, owner_role, agencies, filter, area_kind, kinds, channel, target,
  strftime(created_at, ${ISO}) AS created_at, strftime(deleted_at, ${ISO}) AS deleted_at, strftime(last_evaluated_at, ${ISO}) AS last_evaluated_at,
  last_error, strftime(last_error_at, ${ISO}) AS last_error_at`;

export const EVENT_COLUMNS = `event_id::DOUBLE AS event_id, subscription_id, finding_key, kind, sentence, link, detail, data_as_of,
  strftime(first_seen_at, ${ISO}) AS first_seen_at, strftime(last_seen_at, ${ISO}) AS last_seen_at, strftime(sent_at, ${ISO}) AS sent_at,
  attempts, strftime(last_attempt_at, ${ISO}) AS last_attempt_at, last_error, strftime(cleared_at, ${ISO}) AS cleared_at`;

export interface SubscriptionInsert {
  subscription_id: string;
  owner_id: string;
  owner_name: string;
  owner_role: string;
  agencies: readonly string[] | null;
  filter: string;
  area_kind: string;
  kinds: readonly string[];
  channel: 'email' | 'webhook';
  target: string;
  webhook_secret: string | null;
}

export function insertSubscription(s: SubscriptionInsert): Query {
  const agencies = listOf('a', s.agencies);
  const kinds = listOf('k', s.kinds);
  return {
    sql: `INSERT INTO alert_subscriptions (subscription_id, owner_id, owner_name, owner_role, agencies, filter, area_kind, kinds, channel, target, webhook_secret)
          VALUES ($id, $owner_id, $owner_name, $owner_role, ${agencies.sql}, $filter, $area_kind, ${kinds.sql}, $channel, $target, $secret)`,
    params: {
      id: s.subscription_id, owner_id: s.owner_id, owner_name: s.owner_name, owner_role: s.owner_role, filter: s.filter, area_kind: s.area_kind,
      channel: s.channel, target: s.target, secret: s.webhook_secret, ...agencies.params, ...kinds.params,
    },
  };
}

/** Live subscriptions (not deleted): one owner's, or every one (owner null). */
export function selectSubscriptions(owner: string | null): Query {
  return {
    sql: `SELECT ${SUBSCRIPTION_COLUMNS} FROM alert_subscriptions WHERE deleted_at IS NULL AND ($owner::VARCHAR IS NULL OR owner_id = $owner) ORDER BY created_at, subscription_id`,
    params: { owner },
  };
}

/** One live subscription, with its webhook secret (for the evaluator only: never sent to a client). */
export function selectSubscription(id: string): Query {
  return { sql: `SELECT ${SUBSCRIPTION_COLUMNS}, webhook_secret FROM alert_subscriptions WHERE subscription_id = $id AND deleted_at IS NULL`, params: { id } };
}

export function selectSubscriptionsWithSecrets(): Query {
  return { sql: `SELECT ${SUBSCRIPTION_COLUMNS}, webhook_secret FROM alert_subscriptions WHERE deleted_at IS NULL ORDER BY created_at, subscription_id`, params: {} };
}

export function markDeleted(id: string, now: string): Query {
  return { sql: `UPDATE alert_subscriptions SET deleted_at = $now::TIMESTAMPTZ WHERE subscription_id = $id AND deleted_at IS NULL`, params: { id, now } };
}

/** An evaluation completed (error null) or failed (its message). */
export function markEvaluated(id: string, now: string, error: string | null): Query {
  return error === null
    ? { sql: `UPDATE alert_subscriptions SET last_evaluated_at = $now::TIMESTAMPTZ, last_error = NULL, last_error_at = NULL WHERE subscription_id = $id`, params: { id, now } }
    : { sql: `UPDATE alert_subscriptions SET last_error = $error, last_error_at = $now::TIMESTAMPTZ WHERE subscription_id = $id`, params: { id, now, error } };
}

/** The episodes of a subscription still open (not cleared): one per finding key at most. */
export function selectOpenEvents(subscriptionId: string): Query {
  return { sql: `SELECT ${EVENT_COLUMNS} FROM alert_events WHERE subscription_id = $s AND cleared_at IS NULL ORDER BY event_id`, params: { s: subscriptionId } };
}

export interface EventInsert {
  subscription_id: string;
  finding_key: string;
  kind: string;
  sentence: string;
  link: string;
  detail: string;
  data_as_of: string;
  now: string;
}

export function insertEvent(e: EventInsert): Query {
  return {
    sql: `INSERT INTO alert_events (subscription_id, finding_key, kind, sentence, link, detail, data_as_of, first_seen_at, last_seen_at)
          VALUES ($s, $key, $kind, $sentence, $link, $detail, $as_of, $now::TIMESTAMPTZ, $now::TIMESTAMPTZ)`,
    params: { s: e.subscription_id, key: e.finding_key, kind: e.kind, sentence: e.sentence, link: e.link, detail: e.detail, as_of: e.data_as_of, now: e.now },
  };
}

export function markSeen(eventIds: readonly number[], now: string): Query {
  const ids = eventIds.map((_, i) => `$e${i}`).join(', ');
  return { sql: `UPDATE alert_events SET last_seen_at = $now::TIMESTAMPTZ WHERE event_id IN (${ids})`, params: { now, ...Object.fromEntries(eventIds.map((id, i) => [`e${i}`, id])) } };
}

export function markCleared(eventIds: readonly number[], now: string): Query {
  const ids = eventIds.map((_, i) => `$e${i}`).join(', ');
  return { sql: `UPDATE alert_events SET cleared_at = $now::TIMESTAMPTZ WHERE event_id IN (${ids}) AND cleared_at IS NULL`, params: { now, ...Object.fromEntries(eventIds.map((id, i) => [`e${i}`, id])) } };
}

/** One attempt to send these episodes: sent (error null) or not, with why. A sent episode is never marked again. */
export function markAttempt(eventIds: readonly number[], now: string, error: string | null): Query {
  const ids = eventIds.map((_, i) => `$e${i}`).join(', ');
  return {
    sql: `UPDATE alert_events SET attempts = attempts + 1, last_attempt_at = $now::TIMESTAMPTZ, last_error = $error,
            sent_at = CASE WHEN $error::VARCHAR IS NULL THEN $now::TIMESTAMPTZ ELSE NULL END
          WHERE event_id IN (${ids}) AND sent_at IS NULL`,
    params: { now, error, ...Object.fromEntries(eventIds.map((id, i) => [`e${i}`, id])) },
  };
}

/** A subscription's episodes, newest first. */
export function selectEvents(subscriptionId: string, limit: number): Query {
  return { sql: `SELECT ${EVENT_COLUMNS} FROM alert_events WHERE subscription_id = $s ORDER BY event_id DESC LIMIT $limit`, params: { s: subscriptionId, limit } };
}
