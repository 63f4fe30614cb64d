// What the data can be cut by — services, service groups, agencies, channels, area kinds and their
// areas, and the span of requests — and the check every analysis runs on a caller's filters: an
// unknown name is a 400 that names the parameter and suggests the closest valid values, never
// an empty 200.
import { NARROW, type Warehouse } from '../db.ts';
import { settledMasksCurrent } from './settled-masks.ts';
import { CivicError, closest, didYouMean, ParameterError } from '../errors.ts';
import {
  compareLabels,
  defaultAreaKindOf,
  DIMENSION_NAMES,
  FILTER_NAMES,
  isPeriod,
  MISSING_LABELS,
  NO_AREA,
  SOURCE_AREA_KIND,
  type CaseFilter,
  type CaseScope,
  type CaseSelection,
  type CaseWindow,
  type Dimension,
} from '../queries/case-predicates.ts';

export interface AreaKindInfo {
  kind: string;
  /** `polygons`: loaded boundaries (point in polygon); `source`: the names the source's rows carry. */
  method: 'polygons' | 'source';
  areas: number;
  default: boolean;
}

export interface Dimensions {
  services: { code: string | null; name: string; service_group: string | null; agency: string | null }[];
  service_groups: string[];
  agencies: string[];
  channels: string[];
  area_kinds: AreaKindInfo[];
  areas: { kind: string; id: string; name: string }[];
  /** The label of cases in no area of a kind. */
  no_area_label: string;
  first_request: string | null;
  last_request: string | null;
}

interface Cached {
  version: string;
  dims: Dimensions;
  dayZone: string | null;
  /**
   * The last change of any reopened case, in microseconds since the epoch (-Infinity: none was
   * reopened; +Infinity: one has no time of its last change). An as-of time at or after it needs
   * no case's state from the event log.
   */
  reopenedChangedUs: number;
  /** Whether the stored masks of settled cases are this code's (analytics/settled-masks.ts). */
  settledMasks: boolean;
}
/**
 * The lists of the current data version, as a promise: callers that arrive together (the
 * overview and the public release, computed ahead as the server starts) share one read and get
 * the same object — the public release and other per-version memos are keyed on it, and two
 * reads made two objects, so what was computed ahead for one was computed again for a visitor.
 */
const cache = new WeakMap<Warehouse, { version: string; value: Promise<Cached> }>();

/**
 * Data versions a server keeps instead of reading them per request (keepDataVersion): the read
 * below is five scalar subqueries, about 4 ms of DuckDB, and every staff request asked it twice
 * (its memo and its dimension lists) — most of what a request answered from memory cost.
 */
const kept = new WeakMap<Warehouse, { current: Promise<string> | null }>();

/**
 * From now on `wh`'s data version is read once and kept until the returned function is called.
 * Only for a warehouse whose every data change is known to its caller: the server (api/plugins/
 * warehouse.ts) holds DuckDB's single-writer lock, so no other process can load anything, and
 * its own loads go through one IngestService, which calls the function after every batch.
 */
export function keepDataVersion(wh: Warehouse): () => void {
  const slot: { current: Promise<string> | null } = { current: null };
  kept.set(wh, slot);
  return () => {
    slot.current = null;
  };
}

/** Changes whenever a batch lands or areas are loaded, so the cached lists are never stale. */
export function dataVersion(wh: Warehouse): Promise<string> {
  const slot = kept.get(wh);
  if (!slot) return readDataVersion(wh);
  if (!slot.current) {
    // Kept from the moment the read starts: a forget() while it runs drops it, so a read that
    // began before a batch committed is never kept after it.
    const read = readDataVersion(wh);
    slot.current = read;
    read.catch(() => {
      if (slot.current === read) slot.current = null;
    });
  }
  return slot.current;
}

async function readDataVersion(wh: Warehouse): Promise<string> {
  const r = await wh.one<{ v: string }>(
    `SELECT concat_ws('|', (SELECT count(*) FROM ingest_batches), (SELECT max(coalesce(finished_at, started_at)) FROM ingest_batches),
                      (SELECT count(*) FROM areas), (SELECT count(*) FROM case_areas), (SELECT count(*) FROM services),
                      (SELECT max(digest) FROM settled_masks)) AS v`,
  );
  return r?.v ?? '';
}

async function cached(wh: Warehouse): Promise<Cached> {
  const version = await dataVersion(wh);
  let hit = cache.get(wh);
  if (!hit || hit.version !== version) {
    const read = async (): Promise<Cached> => ({
      version, dims: await readDimensions(wh), dayZone: await storedDayZone(wh), reopenedChangedUs: await reopenedChangedUs(wh), settledMasks: await settledMasksCurrent(wh),
    });
    const entry = { version, value: read() };
    // A failed read is not kept: the next caller reads again.
    entry.value.catch(() => {
      if (cache.get(wh) === entry) cache.delete(wh);
    });
    cache.set(wh, (hit = entry));
  }
  return hit.value;
}

/**
 * The one zone every case's stored local days are cut in (migration 010), or null when some are
 * cut in another or not yet at all: then analyses convert each timestamp themselves.
 */
async function storedDayZone(wh: Warehouse): Promise<string | null> {
  const r = await wh.all<{ z: string | null }>(`SELECT DISTINCT day_zone AS z FROM cases LIMIT 2`);
  return r.length === 1 ? r[0].z : null;
}

/** Cached.reopenedChangedUs: one pass over two narrow columns of `cases`. */
async function reopenedChangedUs(wh: Warehouse): Promise<number> {
  const r = await wh.one<{ n: number; nulls: number; latest: number | null }>(
    `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE last_event_at IS NULL)::INTEGER AS nulls, max(epoch_us(last_event_at))::DOUBLE AS latest
     FROM cases WHERE reopen_count > 0`);
  if (!r || r.n === 0) return -Infinity;
  return r.nulls > 0 || r.latest === null ? Infinity : Number(r.latest);
}

/** Every value the data can be filtered by (for an unscoped caller; scope narrows agencies). */
export async function listDimensions(wh: Warehouse, scope: CaseScope = {}): Promise<Dimensions> {
  return scoped((await cached(wh)).dims, scope);
}

function scoped(d: Dimensions, scope: CaseScope): Dimensions {
  const agencies = scope.agencies ?? null;
  if (!agencies) return d;
  return { ...d, agencies: d.agencies.filter((a) => agencies.includes(a)), services: d.services.filter((s) => s.agency !== null && agencies.includes(s.agency)) };
}

async function readDimensions(wh: Warehouse): Promise<Dimensions> {
  const services = await wh.all<{ code: string | null; name: string; service_group: string | null; agency: string | null }>(
    `WITH used AS (
       SELECT service_code, coalesce(service_name, service_code, '(unknown service)') AS name, any_value(agency) AS agency
       FROM cases GROUP BY ALL
     )
     SELECT u.service_code AS code, u.name, s.service_group, coalesce(u.agency, s.agency) AS agency
     FROM used u LEFT JOIN services s ON s.service_code = u.service_code`,
  );
  const groups = await wh.all<{ g: string }>(`SELECT DISTINCT service_group AS g FROM services WHERE service_group IS NOT NULL`);
  const agencies = await wh.all<{ a: string }>(`SELECT DISTINCT agency AS a FROM cases WHERE agency IS NOT NULL`);
  const channels = await wh.all<{ c: string }>(`SELECT DISTINCT channel AS c FROM cases WHERE channel IS NOT NULL`);
  const areas = await wh.all<{ kind: string; id: string; name: string }>(`SELECT kind, area_id AS id, name FROM areas`);
  const sourceAreas = await wh.all<{ name: string }>(`SELECT DISTINCT area_name AS name FROM cases WHERE area_name IS NOT NULL`);
  const span = (await wh.one<{ first: string | null; last: string | null }>(
    `SELECT strftime(min(opened_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS first, strftime(max(opened_at), '%Y-%m-%dT%H:%M:%S.%fZ') AS last FROM cases`,
  ))!;
  const polygonKinds = [...new Set(areas.map((a) => a.kind))];
  const def = defaultAreaKindOf(polygonKinds);
  const kinds: AreaKindInfo[] = polygonKinds.sort(compareLabels).map((kind) => ({ kind, method: 'polygons' as const, areas: areas.filter((a) => a.kind === kind).length, default: kind === def }));
  if (sourceAreas.length > 0 || kinds.length === 0) kinds.push({ kind: SOURCE_AREA_KIND, method: 'source', areas: sourceAreas.length, default: def === SOURCE_AREA_KIND });
  const byLabel = <T>(key: (x: T) => string) => (a: T, b: T) => compareLabels(key(a), key(b));
  return {
    services: services.sort(byLabel((s) => s.name)),
    service_groups: groups.map((g) => g.g).sort(compareLabels),
    agencies: agencies.map((a) => a.a).sort(compareLabels),
    channels: channels.map((c) => c.c).sort(compareLabels),
    area_kinds: kinds,
    areas: [
      ...areas.sort((a, b) => compareLabels(a.kind, b.kind) || compareLabels(a.name, b.name)),
      ...sourceAreas.map((a) => ({ kind: SOURCE_AREA_KIND, id: a.name, name: a.name })).sort(byLabel((a) => a.name)),
    ],
    no_area_label: NO_AREA,
    first_request: span.first,
    last_request: span.last,
  };
}

export interface SelectionRequest {
  filter?: CaseFilter;
  area_kind?: string;
  scope?: CaseScope;
}

const unknown = (parameter: string, value: string, what: string, valid: readonly string[]) =>
  new ParameterError(
    parameter,
    valid.length === 0
      ? `${parameter} "${value}" is not ${what}: there are none in the data`
      : `${parameter} "${value}" is not ${what}; closest: ${closest(value, valid).map((v) => `"${v}"`).join(', ')} (all: GET /api/dimensions)`,
  );

/**
 * A caller's filters and area kind checked against the data, with the area kind filled in: the
 * case selection every analysis runs on. Throws a ParameterError for a value the data does not have.
 */
export async function resolveSelection(wh: Warehouse, window: CaseWindow, req: SelectionRequest = {}): Promise<CaseSelection> {
  const { dims: all, dayZone, reopenedChangedUs: changedUs, settledMasks } = await cached(wh);
  const dims = scoped(all, req.scope ?? {});
  const kinds = dims.area_kinds.map((k) => k.kind);
  const areaKind = req.area_kind ?? dims.area_kinds.find((k) => k.default)?.kind ?? SOURCE_AREA_KIND;
  if (req.area_kind !== undefined && !kinds.includes(req.area_kind)) throw unknown('area_kind', req.area_kind, 'a loaded area kind', kinds);
  const filter: CaseFilter = {};
  const f = req.filter ?? {};
  for (const name of FILTER_NAMES) {
    const v = f[name];
    if (v === undefined || v === null) continue;
    filter[name] = v;
    // The label a missing value gets in the outputs filters too ("(no area)", "(unknown agency)").
    if (v === MISSING_LABELS[name]) continue;
    if (name === 'service') {
      const valid = dims.services.flatMap((s) => (s.code ? [s.code, s.name] : [s.name]));
      if (!valid.includes(v)) throw unknown('service', v, 'a service code or name', [...new Set(dims.services.map((s) => s.name))]);
    } else if (name === 'service_group') {
      if (!dims.service_groups.includes(v)) throw unknown('service_group', v, 'a service group', dims.service_groups);
    } else if (name === 'agency') {
      if (!dims.agencies.includes(v)) throw unknown('agency', v, req.scope?.agencies ? 'an agency in your scope' : 'an agency', dims.agencies);
    } else if (name === 'channel') {
      if (!dims.channels.includes(v)) throw unknown('channel', v, 'a channel', dims.channels);
    } else if (name === 'area') {
      const ofKind = dims.areas.filter((a) => a.kind === areaKind);
      if (!ofKind.some((a) => a.id === v || a.name === v)) throw unknown('area', v, `an area of kind "${areaKind}"`, ofKind.map((a) => a.name));
    }
  }
  // The as-of time in whole milliseconds (at most the true one): a reopened case changed within
  // the same millisecond reads the log, which is never wrong, only slower.
  const asOfUs = Date.parse(window.as_of) * 1000;
  return { window, filter, area_kind: areaKind, scope: req.scope, local_days: dayZone === window.timezone, state_log: !(changedUs <= asOfUs), reopenings: changedUs !== -Infinity, settled_masks: settledMasks };
}

/** A comma list of dimensions ("" = none: one overall row), each checked against the allow-list. */
export function parseDimensions(list: string | undefined, parameter = 'by', allowed: readonly string[] = DIMENSION_NAMES): Dimension[] {
  const names = [...new Set((list ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
  for (const n of names) {
    if (!allowed.includes(n)) {
      const near = didYouMean(n, allowed);
      throw new ParameterError(parameter, `${parameter} "${n}" is not one of ${allowed.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`);
    }
  }
  return names as Dimension[];
}

/** An analysis would have more cells (groups × periods) than a request may ask for. */
export class TooManyCellsError extends CivicError {
  constructor(readonly estimate: number, readonly limit: number, what: string, exact = false) {
    super(
      `This request ${exact ? 'would have' : 'could have up to'} ${estimate.toLocaleString('en-US')} ${what}, more than the ${limit.toLocaleString('en-US')} a request may ask for (limits.max_cells). ` +
        `Narrow it: ${NARROW}.`,
      { status: 413 },
    );
    this.name = 'Payload Too Large';
  }
}

const DAY_MS = 86_400_000;
const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;

/** Calendar periods of a kind that a window touches (an upper bound for weeks: partial ones count). */
export function periodsIn(window: Pick<CaseWindow, 'from' | 'to'>, period: 'day' | 'week' | 'month' | 'quarter'): number {
  const days = dayNumber(window.to) - dayNumber(window.from) + 1;
  if (period === 'day') return days;
  if (period === 'week') return Math.ceil(days / 7) + 1;
  const months = (+window.to.slice(0, 4) - +window.from.slice(0, 4)) * 12 + (+window.to.slice(5, 7) - +window.from.slice(5, 7)) + 1;
  return period === 'month' ? months : Math.ceil(months / 3) + 1;
}

/**
 * How many cells an analysis grouped by `by` could have, from the data's dimensions (cached) and
 * the caller's filters: each attribute's values (one when it is filtered to one, a missing-value
 * label included) times each period's count in the window. An upper bound: a sparse table has
 * fewer rows; a zero-filled series has exactly this many points.
 */
export function estimateCells(dims: Dimensions, sel: CaseSelection, by: readonly Dimension[]): number {
  const f = sel.filter ?? {};
  const services = dims.services.filter(
    (s) => (!f.service || s.code === f.service || s.name === f.service) && (!f.service_group || s.service_group === f.service_group) && (!f.agency || s.agency === f.agency),
  );
  const count: Record<string, () => number> = {
    service: () => Math.max(1, services.length),
    service_group: () => (f.service_group || f.service ? 1 : new Set(services.map((s) => s.service_group)).size || 1),
    agency: () => (f.agency ? 1 : dims.agencies.length + 1),
    channel: () => (f.channel ? 1 : dims.channels.length + 1),
    area: () => (f.area ? 1 : dims.areas.filter((a) => a.kind === sel.area_kind).length + 1),
  };
  return by.reduce((n, d) => n * (isPeriod(d) ? periodsIn(sel.window, d) : count[d]()), 1);
}

/** A 413 before any query runs when `by` could have more cells than the warehouse's limits allow. */
export async function checkCellBudget(wh: Warehouse, sel: CaseSelection, by: readonly Dimension[], what = `cells (${by.join(' × ') || 'one overall row'})`): Promise<void> {
  const limit = wh.limits.maxCells;
  if (!Number.isFinite(limit)) return;
  const estimate = estimateCells(await listDimensions(wh, sel.scope), sel, by);
  if (estimate > limit) throw new TooManyCellsError(estimate, limit, what);
}
