// Gives each case its areas (point in polygon, or the area its source names when it has no
// point) and its H3 cells. Runs in TypeScript because DuckDB's spatial extension cannot be
// installed (STACK.md); a grid index keeps a million points to seconds.
import * as turf from '@turf/turf';
import { cellToParent } from 'h3-js';
import { cellsOfPoints, POINTS_PER_JOB } from '../warehouse/h3-cells.ts';
import type { Warehouse } from '../warehouse/db.ts';
import { defaultAreaKindOf } from '../warehouse/queries/case-predicates.ts';
import { CivicError } from '../warehouse/errors.ts';

export interface AssignPlacesOptions {
  /** Only the cases with an event in this batch (as the `cases` refresh does). */
  batchId?: string;
  /** Only these cases. With neither option, every case is reassigned. */
  caseIds?: string[];
  /** Kind whose area goes to `cases.area_id`; default `district` if loaded, else the first kind by name. */
  primaryKind?: string;
  /** The caller already holds a transaction (e.g. the batch loader); DuckDB cannot nest BEGIN. */
  inTransaction?: boolean;
  /** Distinct points looked up a page at a time (default PAGE; a test sets it small to check paging changes nothing). */
  pointsPerPage?: number;
}

export interface KindCounts { point: number; sourceName: number; none: number }

export interface AssignPlacesResult {
  cases: number;
  withPoint: number;
  byKind: Record<string, KindCounts>;
}

export const H3_RESOLUTIONS = [7, 8, 9] as const;
export const H3_FINEST = Math.max(...H3_RESOLUTIONS);

interface CaseRow { case_id: string; lat: number | null; lon: number | null; area_name: string | null }
interface AreaRecord { area_id: string; name: string; kind: string; geometry: string }

export async function assignPlaces(wh: Warehouse, opts: AssignPlacesOptions = {}): Promise<AssignPlacesResult> {
  const work = async () => {
    await stageTargets(wh, opts);
    const placed = await placeTargets(wh, opts.primaryKind, opts.pointsPerPage);
    await applyResults(wh, !opts.batchId && !opts.caseIds, { updateCases: true });
    await dropPlaceTables(wh);
    return placed;
  };
  return opts.inTransaction ? work() : wh.transaction(work);
}

/**
 * Places the cases of temp table `place_targets` (case_id, lat, lon, area_name) into temp tables
 * `place_results` (case_id, area_id of the primary kind, h3_r7/8/9) and `place_areas` (case_id,
 * area_kind, area_id, method), writing nothing: the loader inserts its refreshed cases with these
 * results, and writes the areas (applyPlaces) in its transaction.
 */
export async function placeStagedCases(wh: Warehouse, primaryKind?: string): Promise<AssignPlacesResult> {
  return placeTargets(wh, primaryKind, PAGE);
}

/**
 * What placing changed, into `case_areas`: for the cases of temp table `placed` (case_id), their
 * areas as temp table `areas` (case_id, area_kind, area_id, method) has them.
 */
export async function applyPlaces(wh: Warehouse, tables: { placed: string; areas: string }): Promise<void> {
  await applyResults(wh, false, { updateCases: false, ...tables });
}

/** Drops the temp tables placing leaves behind (after the caller has read `place_results`). */
export async function dropPlaceTables(wh: Warehouse): Promise<void> {
  for (const t of ['place_targets', 'place_results', 'place_areas', 'place_points', 'point_cells', 'cell_names', 'point_areas', 'area_keys', 'name_areas']) {
    await wh.run(`DROP TABLE IF EXISTS ${t}`);
  }
}

/** Distinct points (and names) are looked up this many at a time, so memory stays flat however many there are. */
const PAGE = 100_000;

/** The SQL twin of validPoint: only such points are looked up, and cases join back on them. */
const VALID_POINT = (t: string) =>
  `${t}.lat IS NOT NULL AND ${t}.lon IS NOT NULL AND isfinite(${t}.lat) AND isfinite(${t}.lon) AND abs(${t}.lat) <= 90 AND abs(${t}.lon) <= 180`;

/**
 * Each distinct point is looked up once (in polygons and on the H3 grid), and each distinct area
 * name once: many cases share an address, and a case whose point did not change is not in
 * `place_targets` at all when the loader calls this. The cases then take their point's (or
 * name's) results in SQL, set-wise.
 */
async function placeTargets(wh: Warehouse, requestedKind: string | undefined, pointsPerPage = PAGE): Promise<AssignPlacesResult> {
  const perPage = Math.max(1, Math.floor(pointsPerPage));
  // File order settles overlaps (see area_sources in migration 003).
  const areas = await wh.all<AreaRecord>(
    `SELECT a.area_id, a.name, a.kind, a.geometry::VARCHAR AS geometry
     FROM areas a LEFT JOIN area_sources s ON s.area_id = a.area_id
     ORDER BY a.kind, s.feature NULLS LAST, a.area_id`,
  );
  const kinds = [...new Set(areas.map((a) => a.kind))].sort();
  const primary = choosePrimaryKind(kinds, requestedKind);
  const locators = kinds.map((kind) => {
    const ofKind = areas.filter((a) => a.kind === kind);
    return { kind, index: new AreaIndex(ofKind), byName: nameLookup(ofKind) };
  });
  // A point's area goes to DuckDB as a number (an area's place in `areas`, above), named once in
  // `area_keys`: two strings appended per point had cost more than locating it.
  const areaKey = new Map<string, number>(areas.map((a, i) => [`${a.kind}\u0000${a.area_id}`, i]));

  await wh.run(
    `CREATE OR REPLACE TEMP TABLE place_points AS
     SELECT (row_number() OVER ())::INTEGER AS n, lat, lon FROM (SELECT DISTINCT t.lat, t.lon FROM place_targets t WHERE ${VALID_POINT('t')})`,
  );
  // A point's cell by number; each distinct finest cell's names (and its parents') once. Points
  // far outnumber cells (a million points of the demo city's kind fall in some 5,000 cells), and
  // handing DuckDB a string per value had been most of this loop's time after the cells themselves.
  await wh.run(`CREATE OR REPLACE TEMP TABLE point_cells (n INTEGER, cell INTEGER)`);
  await wh.run(`CREATE OR REPLACE TEMP TABLE cell_names (cell INTEGER, h3_r7 VARCHAR, h3_r8 VARCHAR, h3_r9 VARCHAR)`);
  const cellNumbers = new Map<string, number>();
  await wh.run(`CREATE OR REPLACE TEMP TABLE point_areas (n INTEGER, area INTEGER)`);
  await wh.run(`CREATE OR REPLACE TEMP TABLE area_keys (area INTEGER, area_kind VARCHAR, area_id VARCHAR)`);
  if (areas.length > 0) {
    const keys = await wh.conn.createAppender('area_keys', 'main', 'temp');
    areas.forEach((a, i) => {
      keys.appendInteger(i);
      keys.appendVarchar(a.kind);
      keys.appendVarchar(a.area_id);
      keys.endRow();
    });
    keys.closeSync();
  }
  await wh.run(`CREATE OR REPLACE TEMP TABLE name_areas (area_name VARCHAR, area_kind VARCHAR, area_id VARCHAR)`);
  const points = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM place_points`))!.n;
  // Pages in a pipeline: while this thread locates one page's points in the areas and appends
  // its results, the workers compute the H3 cells of that page and of the next, already read.
  const readPage = async (from: number) => {
    const page = await wh.conn.runAndReadAll(`SELECT n, lat, lon FROM place_points WHERE n > $from AND n <= $to`, { from, to: from + perPage });
    const [ns, lats, lons] = page.getColumnsJS() as [number[], number[], number[]];
    // A page of fewer points than one worker job's (a daily load's) is done here: a batch often
    // runs in a process of its own, where a worker would start cold (warehouse/h3-cells.ts).
    const found = cellsOfPoints(Float64Array.from(lats), Float64Array.from(lons), H3_FINEST, { inlineBelow: POINTS_PER_JOB });
    found.catch(() => undefined); // awaited in its turn; not an unhandled rejection if an earlier page fails first
    return { ns, lats, lons, found };
  };
  let next = points > 0 ? readPage(0) : undefined;
  for (let from = 0; next; from += perPage) {
    const { ns, lats, lons, found } = await next;
    next = from + perPage < points ? readPage(from + perPage) : undefined;
    if (next) await next; // read before this page's appenders open: one statement at a time on the connection
    // Everything that can throw is computed before an appender opens, so none is left open.
    let hits = 0;
    const hitPoint = new Int32Array(ns.length * locators.length);
    const hitArea = new Int32Array(ns.length * locators.length);
    for (let i = 0; i < ns.length; i++) {
      for (const l of locators) {
        const areaId = l.index.locate(lons[i], lats[i]);
        if (areaId === null) continue;
        hitPoint[hits] = ns[i];
        hitArea[hits++] = areaKey.get(`${l.kind}\u0000${areaId}`)!;
      }
    }
    const { cell, cells: pageCells } = await found;
    // One cell per point at the finest resolution; the coarser cells are its parents, found once per cell.
    const newCells: { n: number; names: string[] }[] = [];
    const number = pageCells.map((finest) => {
      let n = cellNumbers.get(finest);
      if (n === undefined) {
        n = cellNumbers.size;
        cellNumbers.set(finest, n);
        newCells.push({ n, names: H3_RESOLUTIONS.map((res) => (res === H3_FINEST ? finest : cellToParent(finest, res))) });
      }
      return n;
    });
    await wh.appendIntegers('point_areas', [hitPoint.subarray(0, hits), hitArea.subarray(0, hits)]);
    const cellNames = await wh.conn.createAppender('cell_names', 'main', 'temp');
    for (const c of newCells) {
      cellNames.appendInteger(c.n);
      for (const name of c.names) cellNames.appendVarchar(name);
      cellNames.endRow();
    }
    cellNames.closeSync();
    const pointCell = new Int32Array(ns.length);
    for (let i = 0; i < ns.length; i++) pointCell[i] = number[cell[i]];
    await wh.appendIntegers('point_cells', [Int32Array.from(ns), pointCell]);
  }
  if (locators.length > 0) {
    const names = await wh.all<{ area_name: string }>(
      `SELECT DISTINCT t.area_name FROM place_targets t WHERE t.area_name IS NOT NULL AND NOT coalesce(${VALID_POINT('t')}, false)`,
    );
    const app = await wh.conn.createAppender('name_areas', 'main', 'temp');
    for (const { area_name } of names) {
      for (const l of locators) {
        const areaId = l.byName.get(normaliseName(area_name));
        if (areaId === undefined) continue;
        app.appendVarchar(area_name);
        app.appendVarchar(l.kind);
        app.appendVarchar(areaId);
        app.endRow();
      }
    }
    app.closeSync();
  }
  await wh.run(
    `CREATE OR REPLACE TEMP TABLE place_areas AS
     SELECT t.case_id, k.area_kind, k.area_id, 'point' AS method
     FROM place_targets t JOIN place_points p ON p.lat = t.lat AND p.lon = t.lon JOIN point_areas a ON a.n = p.n JOIN area_keys k ON k.area = a.area
     UNION ALL
     SELECT t.case_id, a.area_kind, a.area_id, 'source_name'
     FROM place_targets t JOIN name_areas a ON a.area_name = t.area_name
     WHERE NOT coalesce(${VALID_POINT('t')}, false)`,
  );
  await wh.run(
    `CREATE OR REPLACE TEMP TABLE place_results AS
     SELECT t.case_id, pa.area_id, c.h3_r7, c.h3_r8, c.h3_r9
     FROM place_targets t
     LEFT JOIN place_points p ON p.lat = t.lat AND p.lon = t.lon
     LEFT JOIN point_cells pc ON pc.n = p.n
     LEFT JOIN cell_names c ON c.cell = pc.cell
     LEFT JOIN place_areas pa ON pa.case_id = t.case_id AND pa.area_kind = $primary`,
    { primary: primary ?? '' },
  );
  const totals = (await wh.one<{ cases: number; with_point: number }>(
    `SELECT count(*)::INTEGER AS cases, count(*) FILTER (WHERE ${VALID_POINT('t')})::INTEGER AS with_point FROM place_targets t`,
  ))!;
  const byMethod = await wh.all<{ area_kind: string; point: number; source_name: number }>(
    `SELECT area_kind, count(*) FILTER (WHERE method = 'point')::INTEGER AS point, count(*) FILTER (WHERE method = 'source_name')::INTEGER AS source_name
     FROM place_areas GROUP BY area_kind`,
  );
  const byKind: Record<string, KindCounts> = {};
  for (const kind of kinds) {
    const m = byMethod.find((b) => b.area_kind === kind);
    const point = m?.point ?? 0, sourceName = m?.source_name ?? 0;
    byKind[kind] = { point, sourceName, none: totals.cases - point - sourceName };
  }
  return { cases: totals.cases, withPoint: totals.with_point, byKind };
}

export function choosePrimaryKind(kinds: string[], requested?: string): string | null {
  if (requested !== undefined) {
    if (kinds.length > 0 && !kinds.includes(requested)) {
      throw new CivicError(`No areas of kind "${requested}" are loaded (kinds loaded: ${kinds.join(', ')}).`, { parameter: 'kind' });
    }
    return requested;
  }
  // The same default every analysis uses (district if loaded, else the first kind by name).
  return kinds.length ? defaultAreaKindOf(kinds) : null;
}

/** The cases to place, numbered 1…n in temp table `place_targets` so they can be read in pages; returns n. */
async function stageTargets(wh: Warehouse, opts: AssignPlacesOptions): Promise<number> {
  let ids: string;
  let params = {};
  if (opts.caseIds) {
    await wh.run(`CREATE OR REPLACE TEMP TABLE place_ids (case_id VARCHAR)`);
    const app = await wh.conn.createAppender('place_ids', 'main', 'temp');
    for (const id of opts.caseIds) {
      app.appendVarchar(id);
      app.endRow();
    }
    app.closeSync();
    ids = `SEMI JOIN place_ids t ON c.case_id = t.case_id`;
  } else if (opts.batchId) {
    ids = `SEMI JOIN (SELECT DISTINCT case_id FROM case_events WHERE batch_id = $b) t ON c.case_id = t.case_id`;
    params = { b: opts.batchId };
  } else {
    ids = '';
  }
  await wh.run(
    `CREATE OR REPLACE TEMP TABLE place_targets AS
     SELECT (row_number() OVER ())::INTEGER AS n, c.case_id, c.lat, c.lon, c.area_name FROM cases c ${ids}`,
    params,
  );
  await wh.run(`DROP TABLE IF EXISTS place_ids`);
  return (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM place_targets`))!.n;
}

/**
 * Applies the staged results set-wise, so a million cases cost a few statements, not a million.
 * Only what changed is written: deleting and re-inserting rows of an indexed table is DuckDB's
 * slow path (about a minute for a million `case_areas` rows, measured), while placing an
 * unchanged batch again should cost next to nothing.
 */
async function applyResults(
  wh: Warehouse, allCases: boolean,
  o: { updateCases: boolean; placed?: string; areas?: string },
): Promise<void> {
  // Temp tables named by this module's callers, never by a request.
  const placed = o.placed ?? 'place_results', areas = o.areas ?? 'place_areas';
  // A kind the case no longer falls in (when every case was placed: also rows of vanished cases).
  await wh.run(
    `DELETE FROM case_areas WHERE ${allCases ? '' : `case_id IN (SELECT case_id FROM ${placed}) AND `}
       NOT EXISTS (SELECT 1 FROM ${areas} p WHERE p.case_id = case_areas.case_id AND p.area_kind = case_areas.area_kind)`,
  );
  await wh.run(
    `UPDATE case_areas SET area_id = p.area_id, method = p.method FROM ${areas} p
     WHERE case_areas.case_id = p.case_id AND case_areas.area_kind = p.area_kind
       AND (case_areas.area_id <> p.area_id OR case_areas.method <> p.method)`,
  );
  await wh.run(
    `INSERT INTO case_areas (case_id, area_kind, area_id, method)
     SELECT p.case_id, p.area_kind, p.area_id, p.method FROM ${areas} p
     ANTI JOIN case_areas ca ON ca.case_id = p.case_id AND ca.area_kind = p.area_kind`,
  );
  if (!o.updateCases) return;
  await wh.run(
    `UPDATE cases SET area_id = r.area_id, h3_r7 = r.h3_r7, h3_r8 = r.h3_r8, h3_r9 = r.h3_r9
     FROM place_results r
     WHERE cases.case_id = r.case_id
       AND (cases.area_id IS DISTINCT FROM r.area_id OR cases.h3_r7 IS DISTINCT FROM r.h3_r7
         OR cases.h3_r8 IS DISTINCT FROM r.h3_r8 OR cases.h3_r9 IS DISTINCT FROM r.h3_r9)`,
  );
}

function validPoint(lat: number | null, lon: number | null): { lat: number; lon: number } | null {
  if (lat === null || lon === null || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

/** Case-insensitive, trimmed, inner spaces collapsed: "  Boyle  Heights NC" = "BOYLE HEIGHTS NC". */
export function normaliseName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Name → area_id for one kind; a name two areas share names neither (it would be a guess). */
function nameLookup(areas: AreaRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  const ambiguous = new Set<string>();
  for (const a of areas) {
    const k = normaliseName(a.name);
    if (out.has(k)) ambiguous.add(k);
    else out.set(k, a.area_id);
  }
  for (const k of ambiguous) out.delete(k);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Spatial index: a uniform grid over the areas' extent. Each bucket lists the areas whose
// bounding box overlaps it. Each area also remembers, per bucket of its box, whether any of its
// edges (by the edge's own bounding box) reaches that bucket: if none does, the bucket lies
// wholly inside or wholly outside the area, so the first point-in-polygon test there answers for
// every later point in it. Only points in buckets an edge crosses pay for a full test.

const UNKNOWN = 0;
const EDGE = 1;
const INSIDE = 2;
const OUTSIDE = 3;

type AreaGeometry =
  | { type: 'Polygon'; coordinates: number[][][] }
  | { type: 'MultiPolygon'; coordinates: number[][][][] };

interface IndexedArea {
  area_id: string;
  geometry: AreaGeometry;
  minX: number; minY: number; maxX: number; maxY: number;
  c0: number; r0: number; w: number; h: number;
  /** UNKNOWN/EDGE/INSIDE/OUTSIDE per bucket of the area's window (row-major). */
  state: Uint8Array;
}

export class AreaIndex {
  private readonly areas: IndexedArea[] = [];
  private minX = Infinity;
  private minY = Infinity;
  private maxX = -Infinity;
  private maxY = -Infinity;
  private cols = 1;
  private rows = 1;
  private cw = 1;
  private ch = 1;
  /** CSR: areas of bucket b are items[start[b] .. start[b+1]), in area_id order. */
  private start = new Int32Array(2);
  private items = new Int32Array(0);

  /** `areas` in the order overlaps are settled: a point in two polygons goes to the first. */
  constructor(areas: { area_id: string; geometry: string }[], maxBucketsPerSide = 512) {
    const parsed = areas.map((a) => {
      const geometry = JSON.parse(a.geometry) as AreaGeometry;
      const [minX, minY, maxX, maxY] = turf.bbox(geometry);
      return { area_id: a.area_id, geometry, minX, minY, maxX, maxY };
    });
    if (parsed.length === 0) return;
    for (const a of parsed) {
      this.minX = Math.min(this.minX, a.minX);
      this.minY = Math.min(this.minY, a.minY);
      this.maxX = Math.max(this.maxX, a.maxX);
      this.maxY = Math.max(this.maxY, a.maxY);
    }
    const spanX = Math.max(this.maxX - this.minX, 1e-9);
    const spanY = Math.max(this.maxY - this.minY, 1e-9);
    const side = Math.max(spanX, spanY) / maxBucketsPerSide;
    this.cols = Math.max(1, Math.min(maxBucketsPerSide, Math.ceil(spanX / side)));
    this.rows = Math.max(1, Math.min(maxBucketsPerSide, Math.ceil(spanY / side)));
    this.cw = spanX / this.cols;
    this.ch = spanY / this.rows;

    const counts = new Int32Array(this.cols * this.rows + 1);
    for (const p of parsed) {
      const c0 = this.col(p.minX), c1 = this.col(p.maxX), r0 = this.row(p.minY), r1 = this.row(p.maxY);
      const w = c1 - c0 + 1, h = r1 - r0 + 1;
      const area: IndexedArea = { ...p, c0, r0, w, h, state: new Uint8Array(w * h) };
      this.markEdges(area);
      this.areas.push(area);
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) counts[r * this.cols + c + 1]++;
    }
    this.start = new Int32Array(counts.length);
    for (let b = 1; b < counts.length; b++) this.start[b] = this.start[b - 1] + counts[b];
    this.items = new Int32Array(this.start[this.start.length - 1]);
    const fill = this.start.slice(0, -1);
    this.areas.forEach((a, i) => {
      for (let r = a.r0; r < a.r0 + a.h; r++) for (let c = a.c0; c < a.c0 + a.w; c++) this.items[fill[r * this.cols + c]++] = i;
    });
  }

  /** The area_id of the first area containing the point (its boundary counts as inside), or null. */
  locate(lon: number, lat: number): string | null {
    if (!(lon >= this.minX && lon <= this.maxX && lat >= this.minY && lat <= this.maxY)) return null;
    const c = this.col(lon), r = this.row(lat);
    const b = r * this.cols + c;
    for (let k = this.start[b]; k < this.start[b + 1]; k++) {
      const a = this.areas[this.items[k]];
      if (lon < a.minX || lon > a.maxX || lat < a.minY || lat > a.maxY) continue;
      const cell = (r - a.r0) * a.w + (c - a.c0);
      const s = a.state[cell];
      if (s === INSIDE) return a.area_id;
      if (s === OUTSIDE) continue;
      const inside = turf.booleanPointInPolygon([lon, lat], a.geometry);
      if (s === UNKNOWN) a.state[cell] = inside ? INSIDE : OUTSIDE;
      if (inside) return a.area_id;
    }
    return null;
  }

  /**
   * Bucket column/row of a coordinate. Monotone in the coordinate (floating-point subtraction
   * and division by a positive number are), which is what makes the EDGE marking sound: a point
   * whose bucket no edge's box reaches is strictly beside every edge.
   */
  private col(x: number): number {
    return Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.minX) / this.cw)));
  }

  private row(y: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.minY) / this.ch)));
  }

  private markEdges(a: IndexedArea): void {
    const polygons = a.geometry.type === 'Polygon' ? [a.geometry.coordinates] : a.geometry.coordinates;
    for (const polygon of polygons) {
      for (const ring of polygon) {
        for (let i = 0; i < ring.length; i++) {
          const p = ring[i];
          // Close the ring even if the file did not repeat the first position.
          const q = ring[(i + 1) % ring.length];
          const c0 = this.col(Math.min(p[0], q[0])) - a.c0, c1 = this.col(Math.max(p[0], q[0])) - a.c0;
          const r0 = this.row(Math.min(p[1], q[1])) - a.r0, r1 = this.row(Math.max(p[1], q[1])) - a.r0;
          for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) a.state[r * a.w + c] = EDGE;
        }
      }
    }
  }
}
