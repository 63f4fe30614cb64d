// Finding repeat places (the definition: queries/repeat-locations-sql.ts and DESIGN.md) over the
// concerned cases' numbers, in TypeScript: a place is an H3 cell at resolution 10 or 11, which
// only h3-js can compute here, and a large city's 12 weeks are millions of cases — binding each
// point's cell back to DuckDB (as JSON, in pages under the row cap) ran past the statement time
// limit on a 10-million-case warehouse. Here each distinct point costs one latLngToCell, on worker
// threads (../h3-cells.ts), the cases are grouped by place and service with two counting sorts, and
// each group's repeats are found by a binary search of its sorted closes. What runs on this thread
// runs in turns of the event loop.
import { CellNumbers, cellKeysOfPoints } from '../h3-cells.ts';
import type { CellKeys } from '../h3-keys.mjs';
import { compareAsDuckDb } from '../queries/case-predicates.ts';
import { nextTurn } from '../turns.ts';

/** The concerned cases of one service, as buildRepeatCasesQuery lists them. */
export interface RepeatCases {
  service: string;
  /** The areas of the lists' cases, in order: the first area_counts[0] cases are in area_names[0], and so on. */
  area_names: string[];
  area_counts: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  /** Microseconds since the epoch. */
  opened: Float64Array;
  /** The first close by the as-of time, microseconds since the epoch; NaN for none. */
  closed: Float64Array;
  /** 1 when the request opened in the window, else 0. */
  in_window: Float64Array;
}

/** One place (cell) and service with at least one repeat. Instants in microseconds since the epoch. */
export interface RepeatGroup {
  cell: string;
  service: string;
  /** The area most of the place's requests in the window are in (all services; a tie: the first by name). */
  area: string;
  requests: number;
  repeats: number;
  first_request: number;
  last_request: number;
  last_repeat: number;
}

export interface RepeatPlaces {
  /** Places × services with at least one repeat, and their repeats in all. */
  total: number;
  repeats: number;
  /** The first `limit` of them in order: most repeats, then most requests, then by cell and service. */
  top: RepeatGroup[];
}

/** Cases per turn: numbering a case's point is a hash-table probe, a fraction of a microsecond. */
const CASES_PER_TURN = 10_000;
/** New distinct points sent to the workers at a time (a few of their jobs). */
const POINTS_PER_SEND = 131_072;

type ArrayOf<T> = new (buffer: ArrayBuffer) => T;
/**
 * An array of n elements whose memory is not cleared first: for arrays every element of which is
 * written before it is read. Fresh memory is slow to first touch on this VM (150 ms per 40 MB):
 * clearing a large city's arrays up front held the event loop for most of a second, where writing
 * them case by case spreads that over the turns of the work.
 */
const unfilled = <T>(type: ArrayOf<T> & { BYTES_PER_ELEMENT: number }, n: number): T => new type(Buffer.allocUnsafeSlow(n * type.BYTES_PER_ELEMENT).buffer as ArrayBuffer);

/** Zeroes `a` a few megabytes per turn. */
async function fillInTurns(a: Int32Array | Float64Array): Promise<void> {
  const step = (1 << 23) / a.BYTES_PER_ELEMENT;
  for (let i = 0; i < a.length; i += step) {
    a.fill(0, i, i + step);
    await nextTurn();
  }
}

/** Each name's place in byte order of its UTF-8 (as DuckDB orders text), by its index. */
function ranks(names: readonly string[]): Int32Array {
  const rank = new Int32Array(names.length);
  names.map((_, id) => id).sort((x, y) => compareAsDuckDb(names[x], names[y])).forEach((id, r) => (rank[id] = r));
  return rank;
}

/**
 * Points → point numbers, each distinct point numbered once (a 311 export repeats addresses: the
 * same point for many requests), so each distinct point's cell is computed once, afterwards and
 * off this thread (warehouse/h3-cells.ts). Open addressing (linear probing) over the points' bits.
 */
class DistinctPoints {
  /** Each slot's point, lat and lon side by side (one page to touch per probe). */
  private readonly keys: Float64Array;
  /** Each slot's point number plus one; 0: empty. */
  private readonly value: Int32Array;
  private readonly size: number;
  private readonly bits = new Float64Array(2);
  private readonly words = new Uint32Array(this.bits.buffer);
  /** The distinct points in order of their numbers (the first `count` entries). */
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  count = 0;

  constructor(points: number) {
    this.size = Math.max(16, Math.ceil(points * 1.5));
    this.keys = unfilled(Float64Array, 2 * this.size);
    this.value = unfilled(Int32Array, this.size);
    this.lat = unfilled(Float64Array, points);
    this.lon = unfilled(Float64Array, points);
  }

  /**
   * Empties the table, a few megabytes per turn, before the first lookup. Its fresh memory is
   * touched here in order: left to the lookups, the first turns' points landed on thousands of
   * untouched pages at random and held the event loop for hundreds of milliseconds.
   */
  async clear(): Promise<void> {
    await fillInTurns(this.value);
    await fillInTurns(this.keys);
  }

  numberOf(lat: number, lon: number): number {
    this.bits[0] = lat;
    this.bits[1] = lon;
    const w = this.words;
    const mixed = Math.imul(w[0] ^ Math.imul(w[1], 0x9e3779b1), 0x85ebca6b) ^ Math.imul(w[2] ^ Math.imul(w[3], 0xc2b2ae35), 0x27d4eb2f);
    let h = ((mixed ^ (mixed >>> 15)) >>> 0) % this.size;
    for (;;) {
      const v = this.value[h];
      if (v === 0) break;
      if (this.keys[2 * h] === lat && this.keys[2 * h + 1] === lon) return v - 1;
      h = h + 1 === this.size ? 0 : h + 1;
    }
    const id = this.count++;
    this.lat[id] = lat;
    this.lon[id] = lon;
    this.keys[2 * h] = lat;
    this.keys[2 * h + 1] = lon;
    this.value[h] = id + 1;
    return id;
  }
}

/** A stable counting sort of `order` by `key[order[i]]` (keys 0 … range − 1). */
function countingSort(order: Uint32Array<ArrayBuffer>, key: Int32Array, range: number): Uint32Array<ArrayBuffer> {
  const start = new Uint32Array(range + 1);
  for (let i = 0; i < order.length; i++) start[key[order[i]] + 1]++;
  for (let k = 0; k < range; k++) start[k + 1] += start[k];
  const out = unfilled(Uint32Array, order.length);
  for (let i = 0; i < order.length; i++) out[start[key[order[i]]]++] = order[i];
  return out;
}

/**
 * The places (cells at `resolution`) × services with at least one repeat — a request opened in the
 * window at most `days` × 24 h after an earlier request of the same service at the same place was
 * first closed — the latest close strictly before the opening (a close at the very instant of an
 * opening is not before it, nor is a case's own close): how many, and the first `limit` in order.
 */
export async function findRepeatPlaces(
  lists: readonly RepeatCases[], days: number, resolution: number, limit: number,
  /** New distinct points sent to the workers at a time (default POINTS_PER_SEND; a test sends fewer, to check the parts add up). */
  o: { pointsPerSend?: number } = {},
): Promise<RepeatPlaces> {
  const perSend = Math.max(1, Math.floor(o.pointsPerSend ?? POINTS_PER_SEND));
  const n = lists.reduce((s, l) => s + l.opened.length, 0);
  const services: string[] = [];
  const areas: string[] = [];
  const svc = unfilled(Int32Array, n);
  const area = unfilled(Int32Array, n);
  const cell = unfilled(Int32Array, n);
  const opened = unfilled(Float64Array, n);
  const closed = unfilled(Float64Array, n);
  const inWindow = unfilled(Uint8Array, n);
  const serviceIds = new Map<string, number>();
  const areaIds = new Map<string, number>();
  const points = new DistinctPoints(n);
  await points.clear();
  const parts: { from: number; keys: Promise<CellKeys> }[] = [];
  let sent = 0;
  const send = () => {
    if (points.count === sent) return;
    const keys = cellKeysOfPoints(points.lat.subarray(sent, points.count), points.lon.subarray(sent, points.count), resolution);
    keys.catch(() => undefined); // awaited in order below; not an unhandled rejection if an earlier part fails first
    parts.push({ from: sent, keys });
    sent = points.count;
  };
  let at = 0;
  for (const l of lists) {
    const s = serviceIds.get(l.service) ?? (services.push(l.service), serviceIds.set(l.service, services.length - 1), services.length - 1);
    const areaOf = l.area_names.map((name) => areaIds.get(name) ?? (areas.push(name), areaIds.set(name, areas.length - 1), areas.length - 1));
    if (l.area_counts.reduce((n, c) => n + c, 0) !== l.opened.length) throw new Error(`repeat places: ${l.service}'s area counts do not add up to its cases`);
    let a = 0;
    let areaEnd = l.area_counts[0] ?? 0;
    opened.set(l.opened, at);
    closed.set(l.closed, at);
    for (let i = 0; i < l.opened.length; i++, at++) {
      while (i >= areaEnd) areaEnd += l.area_counts[++a];
      svc[at] = s;
      area[at] = areaOf[a];
      inWindow[at] = l.in_window[i] === 1 ? 1 : 0;
      cell[at] = points.numberOf(l.lat[i], l.lon[i]);
      // The distinct points found so far go to the workers, which compute their cells while this
      // thread numbers the rest.
      if (points.count - sent >= perSend) send();
      if (at % CASES_PER_TURN === CASES_PER_TURN - 1) await nextTurn();
    }
  }
  send();
  // Each distinct point's cell, numbered in order; then each case's cell in place of its point.
  const numbers = new CellNumbers();
  const cellOfPoint = new Int32Array(points.count);
  for (const part of parts) {
    const keys = await part.keys;
    numbers.add(keys, cellOfPoint, part.from);
  }
  for (let i = 0; i < n; i++) {
    cell[i] = cellOfPoint[cell[i]];
    if (i % (CASES_PER_TURN * 10) === CASES_PER_TURN * 10 - 1) await nextTurn();
  }
  const cellNames = numbers.cells;
  // Grouped by cell, and within a cell by service (a stable sort by service, then by cell).
  let order: Uint32Array<ArrayBuffer> = unfilled(Uint32Array, n);
  for (let i = 0; i < n; i++) order[i] = i;
  await nextTurn();
  order = countingSort(order, svc, services.length);
  await nextTurn();
  order = countingSort(order, cell, cellNames.length);
  await nextTurn();

  // A tie for a place's area goes to the first by name, and places tied on repeats and requests
  // are listed by cell, then service: in byte order, as DuckDB orders text.
  const areaRank = ranks(areas);
  const serviceRank = ranks(services);
  const areaCount = new Int32Array(areas.length);
  const DAY_US = 86_400_000_000;
  const within = days * DAY_US;
  const found: RepeatGroup[] = [];
  const rank: number[] = [];
  let closes = new Float64Array(16);
  let done = 0;
  for (let c0 = 0; c0 < n; ) {
    const c = cell[order[c0]];
    let c1 = c0;
    while (c1 < n && cell[order[c1]] === c) c1++;
    // The place's area: the most requests in the window, across services.
    let best = -1;
    for (let i = c0; i < c1; i++) {
      const k = order[i];
      if (!inWindow[k]) continue;
      const a = area[k];
      areaCount[a]++;
      if (best < 0 || areaCount[a] > areaCount[best] || (areaCount[a] === areaCount[best] && areaRank[a] < areaRank[best])) best = a;
    }
    for (let i = c0; i < c1; i++) areaCount[area[order[i]]] = 0;
    // Each service at the place.
    for (let s0 = c0; s0 < c1; ) {
      const s = svc[order[s0]];
      let s1 = s0;
      while (s1 < c1 && svc[order[s1]] === s) s1++;
      let m = 0;
      if (closes.length < s1 - s0) closes = new Float64Array(2 * (s1 - s0));
      for (let i = s0; i < s1; i++) {
        const t = closed[order[i]];
        if (t === t) closes[m++] = t;
      }
      const sorted = closes.subarray(0, m).sort();
      let requests = 0;
      let repeats = 0;
      let first = Infinity;
      let last = -Infinity;
      let lastRepeat = -Infinity;
      for (let i = s0; i < s1; i++) {
        const k = order[i];
        if (!inWindow[k]) continue;
        const t = opened[k];
        requests++;
        if (t < first) first = t;
        if (t > last) last = t;
        // The latest close strictly before t.
        let lo = 0;
        let hi = m;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (sorted[mid] < t) lo = mid + 1;
          else hi = mid;
        }
        if (lo > 0 && t - sorted[lo - 1] <= within) {
          repeats++;
          if (t > lastRepeat) lastRepeat = t;
        }
      }
      if (repeats > 0) {
        found.push({ cell: cellNames[c], service: services[s], area: areas[best], requests, repeats, first_request: first, last_request: last, last_repeat: lastRepeat });
        rank.push(serviceRank[s]);
      }
      s0 = s1;
    }
    done += c1 - c0;
    if (done >= CASES_PER_TURN * 10) {
      done = 0;
      await nextTurn();
    }
    c0 = c1;
  }
  // Only the listed ones are put in order: the fewest repeats a listed place can have is found
  // from a count per number of repeats, and only places with at least that many are sorted (a
  // large city has hundreds of thousands of places; sorting all of them held the event loop).
  const perRepeats = new Map<number, number>();
  for (const g of found) perRepeats.set(g.repeats, (perRepeats.get(g.repeats) ?? 0) + 1);
  let floor = 0;
  let above = 0;
  for (const r of [...perRepeats.keys()].sort((x, y) => y - x)) {
    floor = r;
    above += perRepeats.get(r)!;
    if (above >= limit) break;
  }
  const order2 = found.flatMap((g, i) => (g.repeats >= floor ? [i] : []));
  // Cells are ASCII (hexadecimal): code-unit order is byte order.
  order2.sort((i, j) => {
    const x = found[i];
    const y = found[j];
    return y.repeats - x.repeats || y.requests - x.requests || (x.cell < y.cell ? -1 : x.cell > y.cell ? 1 : 0) || rank[i] - rank[j];
  });
  return { total: found.length, repeats: found.reduce((n, g) => n + g.repeats, 0), top: order2.slice(0, limit).map((i) => found[i]) };
}
