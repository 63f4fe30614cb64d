// Repeat locations (issue 12 item 3): places where the same service was requested again within N
// days of a close. DuckDB selects the cases concerned (queries/repeat-locations-sql.ts) and lists
// their numbers; repeat-places.ts finds the cells (H3 at resolution 10 or 11, with h3-js: DuckDB
// has no H3 and the cases store only 7–9) and the repeats; this service states what was computed.
// Staff only: cells, never points.
//
// Why not a stored r10/r11 column: it would need a migration that cannot fill itself (no H3 in
// SQL) and a rewrite of every placed case. Here each distinct point of the cases concerned costs
// one latLngToCell (1–3 µs, on worker threads: ../h3-cells.ts): a 10-million-case warehouse's 12
// weeks with 30 days of look-back are about 3 million cases, some seconds, computed once per data
// version (memo).
import { cellToLatLng } from 'h3-js';
import type { Warehouse } from '../db.ts';
import { CivicError, ParameterError } from '../errors.ts';
import { appliedFilter, type CaseFilter, type CaseScope, type CaseWindow } from '../queries/case-predicates.ts';
import { buildLocalDaysQuery, buildRepeatCasesQuery, buildRepeatCoverageQuery } from '../queries/repeat-locations-sql.ts';
import { DoubleArena } from '../double-arena.ts';
import { findRepeatPlaces, type RepeatCases, type RepeatPlaces } from './repeat-places.ts';
import { resolveSelection } from './dimensions.ts';
import { cellRing } from './map.ts';

export const REPEAT_RESOLUTIONS = [10, 11] as const;
export const DEFAULT_REPEAT_DAYS = 30;
export const MAX_REPEAT_DAYS = 365;
/**
 * Requests with a location in the window, at most: the search holds about 170 bytes per case
 * concerned (its numbers as read, their copies, the point table, the distinct points and their
 * cells, and the sort orders), so 5 million
 * requests (with 30 days of look-back, about 6.5 million cases) stay near a gigabyte. The bench's
 * 20M-case year has 4.6 million in its last 12 weeks (22 s); a decade's window is refused with
 * what to narrow.
 */
export const MAX_REPEAT_REQUESTS = 5_000_000;

export interface RepeatOptions {
  window: CaseWindow;
  filter?: CaseFilter;
  area_kind?: string;
  scope?: CaseScope;
  /** N: a request opened at most this many days (× 24 h, inclusive) after an earlier one's close is a repeat. */
  days?: number;
  resolution?: number;
  /** Places × services listed at most (the busiest by repeats); totals count them all. */
  limit?: number;
  /** Requests with a location searched at most (default MAX_REPEAT_REQUESTS). */
  max_requests?: number;
}

export interface RepeatPlace {
  /** The H3 cell (the place) and its centre [lng, lat]. */
  h3: string;
  centre: [number, number];
  /** The area (of area_kind) most of the place's requests in the window are in. */
  area: string;
  service: string;
  /** Requests of the service opened at the place in the window. */
  requests: number;
  /** Of those, requests opened within N days after an earlier request's close (same service, same place). */
  repeats: number;
  repeat_share: number;
  first_request: string;
  last_request: string;
  last_repeat: string;
}

export interface RepeatResult {
  from: string;
  to: string;
  as_of: string;
  timezone: string;
  area_kind: string;
  filter: CaseFilter;
  days: number;
  resolution: number;
  /** Requests opened in the window with a point (placed), and without one (they cannot have a place). */
  requests_with_point: number;
  requests_without_point: number;
  /** Places × services with at least one repeat, their repeats in all, and how many are listed. */
  places_total: number;
  repeats_total: number;
  limit: number;
  places: RepeatPlace[];
  definition: string;
  sentence: string;
}

export async function computeRepeatLocations(wh: Warehouse, o: RepeatOptions): Promise<RepeatResult> {
  const days = o.days ?? DEFAULT_REPEAT_DAYS;
  const resolution = o.resolution ?? 10;
  const limit = o.limit ?? 500;
  if (!Number.isInteger(days) || days < 1 || days > MAX_REPEAT_DAYS) throw new ParameterError('days', `days must be a whole number from 1 to ${MAX_REPEAT_DAYS}`);
  if (!(REPEAT_RESOLUTIONS as readonly number[]).includes(resolution)) throw new ParameterError('resolution', 'resolution must be 10 or 11 (a place: about 15,000 m² or 2,100 m²)');
  if (!Number.isInteger(limit) || limit < 1) throw new ParameterError('limit', 'limit must be a whole number, at least 1');
  const sel = await resolveSelection(wh, o.window, { filter: o.filter, area_kind: o.area_kind, scope: o.scope });

  const cov = buildRepeatCoverageQuery(sel);
  const coverage = (await wh.one<{ with_point: number; without_point: number }>(cov.sql, cov.params))!;
  const most = o.max_requests ?? MAX_REPEAT_REQUESTS;
  if (coverage.with_point > most) {
    throw new CivicError(`This window has ${coverage.with_point.toLocaleString('en-US')} requests with a location; repeat locations search at most ${most.toLocaleString('en-US')} at once. Narrow it: a shorter window (from/to, or fewer weeks) or a filter (service, agency, area…).`, { status: 413 });
  }
  const q = buildRepeatCasesQuery(sel, days);
  const arena = new DoubleArena();
  let found: RepeatPlaces;
  try {
    const lists = await wh.allWithLists<'lat' | 'lon' | 'opened' | 'closed' | 'in_window' | 'area_counts', Pick<RepeatCases, 'service' | 'area_names'>>(
      q.sql, q.params, ['lat', 'lon', 'opened', 'closed', 'in_window', 'area_counts'] as const, { arena, what: 'services of the cases concerned' });
    found = await findRepeatPlaces(lists, days, resolution, limit);
  } finally {
    arena.release();
  }
  const listed = found.top;
  // The listed places' instants as local days, in one statement (DuckDB's time zones, as every other day).
  const instants = listed.flatMap((g) => [g.first_request, g.last_request, g.last_repeat]);
  const dq = buildLocalDaysQuery(sel, instants);
  const localDays = listed.length === 0 ? [] : (await wh.one<{ days: string[] }>(dq.sql, dq.params))!.days;
  const places = listed.map((g, i) => {
    const [clat, clng] = cellToLatLng(g.cell);
    return {
      h3: g.cell, centre: [clng, clat] as [number, number], area: g.area, service: g.service, requests: g.requests, repeats: g.repeats, repeat_share: g.repeats / g.requests,
      first_request: localDays[3 * i], last_request: localDays[3 * i + 1], last_repeat: localDays[3 * i + 2],
    };
  });
  const w = o.window;
  const result: RepeatResult = {
    from: w.from, to: w.to, as_of: w.as_of, timezone: w.timezone, area_kind: sel.area_kind, filter: appliedFilter(sel.filter),
    days, resolution,
    requests_with_point: coverage.with_point, requests_without_point: coverage.without_point,
    places_total: found.total,
    repeats_total: found.repeats,
    limit,
    places,
    definition: `A repeat is a request opened at most ${days} days (exactly ${days} × 24 h included) after an earlier request of the same service at the same place (H3 cell, resolution ${resolution}) was first closed; a place's requests are those opened in the window.`,
    sentence: '',
  };
  result.sentence = describeRepeats(result);
  return result;
}

function describeRepeats(r: RepeatResult): string {
  const period = `opened ${r.from} to ${r.to} (${r.timezone}), as of ${r.as_of}`;
  if (r.places_total === 0) return `No place had the same service requested again within ${r.days} days of a close (requests ${period}).`;
  const top = r.places[0];
  const share = r.requests_with_point > 0 ? ` — ${((100 * r.repeats_total) / r.requests_with_point).toFixed(1)}% of the ${r.requests_with_point.toLocaleString('en-US')} requests with a location` : '';
  return `${r.repeats_total.toLocaleString('en-US')} requests (${period}) repeated a request of the same service at the same place within ${r.days} days of its close${share}, at ${r.places_total.toLocaleString('en-US')} places; ` +
    `the most: ${top.service} in ${top.area}, ${top.repeats} of ${top.requests} requests (cell ${top.h3}).`;
}

/** Rows for CSV and JSON: one per place and service, the centre as two columns. */
export const REPEAT_COLUMNS = ['h3', 'centre_lng', 'centre_lat', 'area', 'service', 'requests', 'repeats', 'repeat_share', 'first_request', 'last_request', 'last_repeat'] as const;
export function repeatRows(r: RepeatResult): Record<string, unknown>[] {
  return r.places.map(({ centre, ...p }) => ({ ...p, centre_lng: centre[0], centre_lat: centre[1] }));
}

/** The listed places as GeoJSON: one cell polygon per place, its services in `services`, totals over them. */
export function repeatGeoJson(r: RepeatResult) {
  const byCell = new Map<string, RepeatPlace[]>();
  for (const p of r.places) {
    const list = byCell.get(p.h3);
    if (list) list.push(p);
    else byCell.set(p.h3, [p]);
  }
  const { places: _places, ...properties } = r;
  return {
    type: 'FeatureCollection' as const,
    features: [...byCell].map(([h3, list]) => ({
      type: 'Feature' as const,
      id: h3,
      properties: {
        h3, centre: list[0].centre, area: list[0].area,
        requests: list.reduce((s, p) => s + p.requests, 0),
        repeats: list.reduce((s, p) => s + p.repeats, 0),
        services: list.map(({ service, requests, repeats, repeat_share, first_request, last_request, last_repeat }) => ({ service, requests, repeats, repeat_share, first_request, last_request, last_repeat })),
      },
      geometry: { type: 'Polygon' as const, coordinates: [cellRing(h3)] },
    })),
    properties,
  };
}
