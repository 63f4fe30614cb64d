// Open311 GeoReport v2, read side (issue 13 item 4): the service list and service requests as the
// spec (../shared/data/real/open311/spec/GeoReport_v2_index.md) defines them, with public fields
// only. Anyone may call it, so what leaves is decided here, once, for JSON and XML alike:
// - a request is a case of a service that is not sensitive (disclosure.sensitive_services, by code
//   or name): a sensitive service's requests, and the service itself, do not exist here;
// - no address, description, media, contact or account field; the point is generalised to the
//   centre of its H3 resolution-8 cell (about 0.7 km²), computed with h3-js from the stored cell;
// - times are the jurisdiction's local time with its offset at that instant (W3C datetime);
// - the status trail (extensions=true) is event types and times only, never a note or its text.
// The request window follows the data: by default the 90 days up to the newest public request.
import { cellToLatLng } from 'h3-js';
import type { Warehouse } from '../db.ts';
import { ParameterError } from '../errors.ts';
import { sensitiveServiceNames, type DisclosurePolicy } from '../privacy/policy.ts';
import {
  buildOpen311RequestsQuery,
  buildOpen311ServiceKeysQuery,
  buildOpen311ServicesQuery,
  buildOpen311TrailQuery,
  buildOpen311WindowQuery,
  type Open311Bound,
  type Open311Selection,
  type SensitiveServices,
} from '../queries/open311-sql.ts';
import { listDimensions } from './dimensions.ts';
import { formatHours } from './format.ts';

/** The H3 resolution a request's point is generalised to (its cell's centre). */
export const OPEN311_H3_RESOLUTION = 8;
/** The spec's cap on one response ("first 1000 requests"), and so the largest page. */
export const OPEN311_MAX_REQUESTS = 1000;
/** The spec's longest window between start_date and end_date. */
export const OPEN311_MAX_DAYS = 90;

export interface Open311Options {
  policy: DisclosurePolicy;
  /** The jurisdiction's IANA zone: local times without an offset are read in it, and every time is written in it. */
  timezone: string;
}

export interface Open311Service {
  service_code: string;
  service_name: string;
  description: string;
  metadata: false;
  type: 'realtime';
  /** The group and the agency, comma-separated (absent when neither is known). */
  keywords?: string;
  group?: string;
}

export interface Open311Note {
  datetime: string;
  type: string;
  description: string;
}

/** One request as the spec's response lists it; absent keys are fields withheld or not known. */
export interface Open311Request {
  service_request_id: string;
  status: 'open' | 'closed';
  status_notes?: string;
  service_name: string;
  service_code: string;
  agency_responsible?: string;
  requested_datetime: string;
  updated_datetime?: string;
  expected_datetime?: string;
  lat?: number;
  long?: number;
  /** extensions=true: the public status trail (the spec's "Update History" extension). */
  notes?: Open311Note[];
}

/** What a GET requests call asks (empty parameters already removed: the spec treats them as absent). */
export interface Open311RequestsQuery {
  service_request_id?: string;
  service_code?: string;
  start_date?: string;
  end_date?: string;
  status?: string;
  page?: number;
  page_size?: number;
  extensions?: boolean;
}

const NOTE_TEXT: Record<string, string> = {
  opened: 'Opened',
  acknowledged: 'Acknowledged',
  assigned: 'Assigned',
  status_changed: 'Status changed',
  closed: 'Closed',
  reopened: 'Reopened',
  cancelled: 'Cancelled',
};

/**
 * A W3C datetime parameter (https://www.w3.org/TR/NOTE-datetime): YYYY-MM-DD, or with a time
 * (hh:mm, hh:mm:ss, hh:mm:ss.s…) and a zone (Z or ±hh:mm). Without a zone it is the jurisdiction's
 * local time; a date alone is the start of that local day — or, for an end, its last microsecond,
 * so `end_date=2026-03-08` includes that day. A "+" left unescaped in a URL arrives as a space:
 * "…T10:00:00 05:00" is read as +05:00, as the client meant. Fractions finer than a microsecond are
 * cut (the warehouse keeps microseconds).
 */
export function parseW3cDatetime(value: string, parameter: string, end = false): Open311Bound {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:(Z|z|[+\- ]\d{2}:?\d{2}))?)?$/.exec(value.trim());
  const bad = () =>
    new ParameterError(
      parameter,
      `${parameter} "${value}" is not a W3C datetime: use e.g. 2026-03-08T01:59:59-05:00 or 2026-03-08T06:59:59Z (without an offset, the time is local; a date alone is a whole local day)`,
    );
  if (!m) throw bad();
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const date = new Date(Date.UTC(+y, +mo - 1, +d));
  if (+y < 1900 || date.getUTCMonth() !== +mo - 1 || date.getUTCDate() !== +d) throw bad();
  if (h !== undefined && (+h > 23 || +mi > 59 || (s !== undefined && +s > 59))) throw bad();
  if (h === undefined) return { local: `${y}-${mo}-${d} ${end ? '23:59:59.999999' : '00:00:00'}` };
  const time = `${h}:${mi}:${s ?? '00'}.${(frac ?? '').padEnd(6, '0').slice(0, 6)}`;
  if (zone === undefined) return { local: `${y}-${mo}-${d} ${time}` };
  if (zone === 'Z' || zone === 'z') return { at: `${y}-${mo}-${d}T${time}Z` };
  const z = /^([+\- ])(\d{2}):?(\d{2})$/.exec(zone)!;
  if (+z[2] > 14 || +z[3] > 59) throw bad();
  return { at: `${y}-${mo}-${d}T${time}${z[1] === '-' ? '-' : '+'}${z[2]}:${z[3]}` };
}

/** A local wall time ("YYYY-MM-DDTHH:MM:SS.ffffff") and its offset in minutes as a W3C datetime; a fraction only when there is one. */
export function w3cDatetime(local: string, offsetMinutes: number): string {
  const [whole, frac = ''] = local.split('.');
  const f = frac.replace(/0+$/, '');
  const fraction = f === '' ? '' : `.${f.length <= 3 ? f.padEnd(3, '0') : f.padEnd(6, '0')}`;
  const a = Math.abs(offsetMinutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${whole}${fraction}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/**
 * The sensitive services as the data names them: every catalogue and case service the policy
 * names by code or name. The one resolution Open311 and the public release both use (the release
 * leaves these codes and names out of every figure), so what one hides the other never counts.
 */
export async function sensitiveServices(wh: Warehouse, policy: DisclosurePolicy): Promise<SensitiveServices> {
  if (policy.sensitive_services.length === 0) return { codes: [], names: [] };
  const q = buildOpen311ServiceKeysQuery();
  const catalogue = await wh.all<{ code: string; name: string }>(q.sql, q.params);
  const known = [...catalogue, ...(await listDimensions(wh)).services];
  const names = sensitiveServiceNames(policy, known);
  // Names the policy gives that no service has yet are withheld too, should such cases arrive.
  const wanted = policy.sensitive_services.map((s) => s.trim());
  const codes = [...new Set([...known.filter((s) => names.has(s.name) && s.code !== null).map((s) => s.code as string), ...wanted])];
  return { codes, names: [...new Set([...names, ...wanted])] };
}

/** GET services: every public service, with a description made only of what the data says about it. */
export async function open311Services(wh: Warehouse, o: Open311Options): Promise<Open311Service[]> {
  const q = buildOpen311ServicesQuery(await sensitiveServices(wh, o.policy));
  const rows = await wh.all<{ service_code: string; service_name: string; service_group: string | null; agency: string | null; sla_hours: number | null }>(q.sql, q.params);
  return rows.map((r) => {
    const parts = [`${r.service_name}${r.service_group ? ` (${r.service_group})` : ''}`, r.agency ? `, handled by ${r.agency}` : '', '.'];
    if (r.sla_hours !== null && r.sla_hours > 0) parts.push(` Service level: ${formatHours(r.sla_hours)}.`);
    const keywords = [...new Set([r.service_group, r.agency].filter((k): k is string => !!k))];
    const service: Open311Service = { service_code: r.service_code, service_name: r.service_name, description: parts.join(''), metadata: false, type: 'realtime' };
    if (keywords.length) service.keywords = keywords.join(', ');
    if (r.service_group) service.group = r.service_group;
    return service;
  });
}

interface RequestRow {
  case_id: string;
  service_code: string;
  service_name: string;
  agency: string | null;
  status: 'open' | 'closed' | 'cancelled';
  reopen_count: number;
  h3_r8: string | null;
  requested_local: string;
  requested_offset: number;
  updated_local: string | null;
  updated_offset: number | null;
  expected_local: string | null;
  expected_offset: number | null;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function toRequest(r: RequestRow): Open311Request {
  const out: Open311Request = {
    service_request_id: r.case_id,
    status: r.status === 'open' ? 'open' : 'closed',
    service_name: r.service_name,
    service_code: r.service_code,
    requested_datetime: w3cDatetime(r.requested_local, r.requested_offset),
  };
  // Cancelled is closed to Open311 (its only statuses are open and closed); the note says which.
  if (r.status === 'cancelled') out.status_notes = 'Cancelled';
  else if (r.status === 'open' && r.reopen_count > 0) out.status_notes = 'Reopened';
  if (r.agency !== null) out.agency_responsible = r.agency;
  if (r.updated_local !== null) out.updated_datetime = w3cDatetime(r.updated_local, r.updated_offset!);
  if (r.expected_local !== null) out.expected_datetime = w3cDatetime(r.expected_local, r.expected_offset!);
  if (r.h3_r8 !== null) {
    const [lat, lng] = cellToLatLng(r.h3_r8);
    out.lat = round6(lat);
    out.long = round6(lng);
  }
  return out;
}

async function readRequests(wh: Warehouse, sel: Open311Selection, page: { limit: number; offset: number }, extensions: boolean, o: Open311Options, sens: SensitiveServices) {
  const q = buildOpen311RequestsQuery(sel, page, o.timezone, sens);
  const rows = await wh.all<RequestRow>(q.sql, q.params);
  const requests = rows.map(toRequest);
  if (extensions && requests.length > 0) {
    const t = buildOpen311TrailQuery(requests.map((r) => r.service_request_id), o.timezone);
    const events = await wh.all<{ case_id: string; event_type: string; at_local: string; at_offset: number }>(t.sql, t.params);
    const trail = new Map<string, Open311Note[]>();
    for (const e of events) {
      let list = trail.get(e.case_id);
      if (!list) trail.set(e.case_id, (list = []));
      list.push({ datetime: w3cDatetime(e.at_local, e.at_offset), type: e.event_type, description: NOTE_TEXT[e.event_type] ?? e.event_type });
    }
    for (const r of requests) r.notes = trail.get(r.service_request_id) ?? [];
  }
  return requests;
}

/** A comma list (the spec's "comma delimited"), trimmed, empty items dropped, duplicates once. */
const list = (v: string | undefined) => (v === undefined ? [] : [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))]);

export interface Open311Window {
  /** ISO UTC instants (inclusive); null when there are no public requests to default to. */
  start_at: string | null;
  end_at: string | null;
}

/** The window a query means (defaults follow the data), or a 400 naming what is wrong with it. */
export async function resolveOpen311Window(wh: Warehouse, q: Pick<Open311RequestsQuery, 'start_date' | 'end_date'>, o: Open311Options, sens?: SensitiveServices): Promise<Open311Window> {
  const start = q.start_date === undefined ? null : parseW3cDatetime(q.start_date, 'start_date');
  const end = q.end_date === undefined ? null : parseW3cDatetime(q.end_date, 'end_date', true);
  const w = buildOpen311WindowQuery(start, end, o.timezone, sens ?? (await sensitiveServices(wh, o.policy)));
  const r = (await wh.one<{ start_at: string | null; end_at: string | null; limit_local: string | null; limit_offset: number | null; start_after_end: boolean; too_long: boolean }>(w.sql, w.params))!;
  if (r.start_after_end) throw new ParameterError('end_date', `end_date (${q.end_date}) is before start_date (${q.start_date ?? `the default, ${OPEN311_MAX_DAYS} days before it`})`);
  if (r.too_long) {
    throw new ParameterError(
      'end_date',
      `start_date (${q.start_date}) and end_date (${q.end_date}) are more than ${OPEN311_MAX_DAYS} days apart; ask for at most ${OPEN311_MAX_DAYS} days at a time (here: an end_date up to ${w3cDatetime(r.limit_local!, r.limit_offset!)})`,
    );
  }
  return { start_at: r.start_at, end_at: r.end_at };
}

/**
 * GET requests: by id (a comma list; every other criterion is then ignored, as the spec says, and
 * an id that does not exist or is withheld is simply not listed), or the requests opened in the
 * window with the service codes and statuses asked for, newest first, a page of at most 1000.
 */
export async function open311Requests(wh: Warehouse, q: Open311RequestsQuery, o: Open311Options): Promise<Open311Request[]> {
  const sens = await sensitiveServices(wh, o.policy);
  const extensions = q.extensions ?? false;
  if (q.service_request_id !== undefined) {
    const ids = list(q.service_request_id);
    if (ids.length > OPEN311_MAX_REQUESTS) throw new ParameterError('service_request_id', `service_request_id lists ${ids.length} ids; at most ${OPEN311_MAX_REQUESTS} at a time`);
    return readRequests(wh, { ids }, { limit: OPEN311_MAX_REQUESTS, offset: 0 }, extensions, o, sens);
  }
  const status = list(q.status);
  const wrong = status.find((s) => s !== 'open' && s !== 'closed');
  if (wrong !== undefined) throw new ParameterError('status', `status "${wrong}" is not a status: use open, closed or open,closed`);
  const window = await resolveOpen311Window(wh, q, o, sens);
  if (window.start_at === null || window.end_at === null) return [];
  const codes = list(q.service_code);
  const pageSize = q.page_size ?? OPEN311_MAX_REQUESTS;
  const page = q.page ?? 1;
  return readRequests(
    wh,
    { start_at: window.start_at, end_at: window.end_at, service_codes: codes.length ? codes : null, status: status.length ? (status as ('open' | 'closed')[]) : null },
    { limit: pageSize, offset: (page - 1) * pageSize },
    extensions,
    o,
    sens,
  );
}

/** GET requests/{id}: one public request, or null when there is none (or it is withheld: the same answer). */
export async function open311Request(wh: Warehouse, id: string, o: Open311Options & { extensions?: boolean }): Promise<Open311Request | null> {
  const sens = await sensitiveServices(wh, o.policy);
  const [r] = await readRequests(wh, { ids: [id] }, { limit: 1, offset: 0 }, o.extensions ?? false, o, sens);
  return r ?? null;
}
