// The one door to DuckDB. Everything above this layer speaks SQL text + bound values through
// `Warehouse`; nothing else imports @duckdb/node-api, so moving to snapshots or a Parquet lake
// stays a change of this folder.
//
// A `Warehouse` is either one connection (the writer: ingest, migrations, the CLI, reports) or,
// from `readers()`, a small pool of read connections for the API: each statement takes a free
// connection for as long as it runs, is interrupted past a time limit, and is refused past a row
// cap before its rows reach JavaScript, so one heavy request cannot hold up the others.
import { AsyncLocalStorage } from 'node:async_hooks';
import { CivicError } from './errors.ts';
import type { DoubleArena } from './double-arena.ts';
import { nextTurn } from './turns.ts';
import { DuckDBDataChunk, DuckDBInstance, DuckDBIntegerType, JsonDuckDBValueConverter, type DuckDBConnection, type DuckDBIntegerVector, type DuckDBValue } from '@duckdb/node-api';
import duckdbBindings from '@duckdb/node-bindings';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Params = Record<string, DuckDBValue>;
export type Row = Record<string, unknown>;
export interface Query { sql: string; params: Params }

const here = dirname(fileURLToPath(import.meta.url));
const MIGRATIONS_DIR = join(here, 'migrations');
const MODELS_DIR = join(here, 'models');

export class WarehouseLockedError extends CivicError {
  constructor(path: string, cause: unknown) {
    super(
      `The warehouse ${path} is in use by another process (DuckDB allows one writer per file). ` +
        `If the server is running, send the file to it (POST /api/ingest) or stop it first.`,
      { cause, status: 503 },
    );
  }
}

/** Bounds on the statements a pooled reader (`Warehouse.readers`) runs. */
export interface ReadLimits {
  /** Connections in the pool: this many statements run at once; the next waits for a free one. */
  connections: number;
  /** A statement running longer is interrupted (DuckDB's interrupt): a 503 saying what to narrow. Also the longest wait for a free connection. */
  timeoutMs: number;
  /** A statement returning more rows is refused (413) after reading at most this many: they never all reach JavaScript. */
  maxQueryRows: number;
  /** Rows one answer may have (an analysis asks for at most this many groups: see `all`'s `maxRows`). */
  maxRows: number;
  /**
   * Cells (groups × periods) one analysis may ask for, estimated from the data's dimensions
   * before any query runs (analytics/dimensions.ts checkCellBudget): a 413 at once instead of a
   * query that runs for seconds to build a series or table nobody can use.
   */
  maxCells: number;
}

/** What the API reads with unless configured (config.ts `limits.*` has the same defaults). */
export const DEFAULT_READ_LIMITS: Readonly<ReadLimits> = { connections: 3, timeoutMs: 15_000, maxQueryRows: 100_000, maxRows: 5_000, maxCells: 250_000 };
/** A single connection (writer, CLI, reports): no time limit, no row cap. */
const UNLIMITED: Readonly<ReadLimits> = { connections: 1, timeoutMs: Infinity, maxQueryRows: Infinity, maxRows: Infinity, maxCells: Infinity };

/** What to narrow, in every refusal of a request too big to answer. */
export const NARROW = 'a shorter window (from/to, or fewer weeks), a coarser period (week instead of day), fewer groupings in by, or a filter (service, agency, area…)';

/** A statement ran past the time limit and was interrupted. */
export class QueryTimeoutError extends CivicError {
  constructor(timeoutMs: number, cause: unknown) {
    super(`This request needed more than ${formatSeconds(timeoutMs)} of warehouse time and was stopped. Narrow it: ${NARROW}.`, { status: 503, cause });
  }
}

/** A statement would return more rows than an answer may have. */
export class TooManyRowsError extends CivicError {
  constructor(readonly limit: number, what: string) {
    super(`This request would return more than ${limit.toLocaleString('en-US')} ${what}. Narrow it: ${NARROW}.`, { status: 413 });
    this.name = 'Payload Too Large';
  }
}

/** Every read connection stayed busy for the whole time limit. */
export class WarehouseBusyError extends CivicError {
  readonly retryAfterSeconds: number;
  constructor(timeoutMs: number) {
    super(`The warehouse is busy with other requests (none of its read connections came free within ${formatSeconds(timeoutMs)}). Try again shortly.`, { status: 503 });
    this.retryAfterSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  }
}

const formatSeconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`);

/** Options for one read. */
export interface ReadOptions {
  /** Refuse (413) when the statement has more rows than this (and than the pool's `maxQueryRows`). */
  maxRows?: number;
  /** What the rows are, for the message: "rows (one per service × day)". Default "rows from the warehouse". */
  what?: string;
  /**
   * For a statement whose rows are parts of the answer's rows (the KPIs' cohorts in parts: one row
   * per group and combination of predicates, kpi-sql.ts): the answer row a row is part of. The cap
   * then counts distinct answer rows, not parts — the limit is the answer's; a group's parts are
   * as many as the combinations of predicates its cases meet (1 to 7 per group measured on the
   * demo city, LA, SF and the bench's export).
   */
  partOf?: (row: Record<string, unknown>) => string;
}

/** Counts a read's rows against its cap: every row, or (with `partOf`) the distinct answer rows they are parts of. */
class RowCount {
  private readonly keys: Set<string> | null;
  constructor(private readonly partOf?: (row: Record<string, unknown>) => string) {
    this.keys = partOf ? new Set() : null;
  }

  /** Counts rows[from…] (all the rows read so far: rows[…from] were counted before); returns the count so far. */
  add(rows: readonly unknown[], from: number): number {
    if (!this.keys) return rows.length;
    for (let i = from; i < rows.length; i++) this.keys.add(this.partOf!(rows[i] as Record<string, unknown>));
    return this.keys.size;
  }
}

/** The connections a pool has lent out, and which one a transaction holds. */
class ReadPool {
  private readonly idle: DuckDBConnection[];
  private readonly leased = new Set<DuckDBConnection>();
  private readonly waiting: { resolve: (c: DuckDBConnection) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }[] = [];
  private closed = false;

  constructor(private readonly all: DuckDBConnection[], readonly limits: Readonly<ReadLimits>) {
    this.idle = [...all];
  }

  private acquire(): Promise<DuckDBConnection> {
    if (this.closed) return Promise.reject(new CivicError('The warehouse is closed (the server is shutting down).', { status: 503 }));
    const conn = this.idle.pop();
    if (conn) {
      this.leased.add(conn);
      return Promise.resolve(conn);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(new WarehouseBusyError(this.limits.timeoutMs));
        }, Math.min(this.limits.timeoutMs, 2 ** 31 - 1)),
      };
      this.waiting.push(waiter);
    });
  }

  private release(conn: DuckDBConnection): void {
    if (this.closed) {
      this.leased.delete(conn);
      conn.closeSync();
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(conn); // stays leased
    } else {
      this.leased.delete(conn);
      this.idle.push(conn);
    }
  }

  /** Runs `fn` on a free connection (waiting, at most the time limit, for one). */
  async use<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      return await fn(conn);
    } finally {
      this.release(conn);
    }
  }

  /** Runs one statement on `conn`, interrupting it past the time limit. */
  async limited<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
    const ms = this.limits.timeoutMs;
    if (!Number.isFinite(ms)) return fn();
    let timedOut = false;
    // An interrupt that lands just after the statement finished is harmless: DuckDB clears it
    // when the next statement starts.
    const timer = setTimeout(() => {
      timedOut = true;
      conn.interrupt();
    }, Math.min(ms, 2 ** 31 - 1));
    try {
      return await fn();
    } catch (err) {
      if (timedOut) throw new QueryTimeoutError(ms, err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops every statement, closes the idle connections now and the others as they come back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new CivicError('The warehouse is closed (the server is shutting down).', { status: 503 }));
    }
    for (const conn of this.leased) conn.interrupt();
    for (const conn of this.idle.splice(0)) conn.closeSync();
  }

  get size(): number {
    return this.all.length;
  }
}

/**
 * The rows of a DOUBLE[] vector as Float64Arrays (a NULL list as an empty one), read off DuckDB's
 * memory as the node API does for its own vectors: the list entries (offset and length, two
 * uint64 each), the list validity (one bit a row; none when every row is valid) and the child's
 * doubles. Each row's elements are copied out of the child's, so nothing refers to DuckDB's chunk.
 */
function readDoubleLists(vector: duckdbBindings.Vector, rows: number, arena?: DoubleArena): Float64Array[] {
  const entryBytes = duckdbBindings.vector_get_data(vector, rows * 16);
  const entries = new BigUint64Array(entryBytes.buffer, entryBytes.byteOffset, rows * 2);
  const words = Math.ceil(rows / 64);
  const validityBytes = duckdbBindings.vector_get_validity(vector, words * 8);
  const validity = validityBytes ? new BigUint64Array(validityBytes.buffer, validityBytes.byteOffset, words) : null;
  const child = duckdbBindings.list_vector_get_child(vector);
  const itemBytes = duckdbBindings.vector_get_data(child, duckdbBindings.list_vector_get_size(vector) * Float64Array.BYTES_PER_ELEMENT);
  const items = new Float64Array(itemBytes.buffer, itemBytes.byteOffset, itemBytes.byteLength / Float64Array.BYTES_PER_ELEMENT);
  const out: Float64Array[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const valid = !validity || (validity[i >> 6] & (1n << BigInt(i & 63))) !== 0n;
    const offset = Number(entries[2 * i]);
    const length = valid ? Number(entries[2 * i + 1]) : 0;
    if (!arena) out[i] = items.slice(offset, offset + length);
    else (out[i] = arena.alloc(length)).set(items.subarray(offset, offset + length));
  }
  return out;
}

/** Rows per JSON text of `allAsJson`: half a megabyte of a case list's rows, parsed in a few milliseconds. */
const RN_CHUNK = 2048;
/** The column types `allAsJson` reads: JSON writes their values so that JSON.parse gives back what `all` gives. */
const JSON_TYPES: ReadonlySet<string> = new Set(['VARCHAR', 'BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT', 'DOUBLE']);

/** Rows of a streamed answer converted per turn of the event loop (`all`): a few milliseconds' work. */
export const ROWS_PER_TURN = 256;

/**
 * A chunk's rows as JSON-safe objects appended to `rows`, ROWS_PER_TURN of them per turn of the
 * event loop: the node API's own row objects (yieldRowObjectJson: the same names, the same
 * converter), which convert a whole chunk (2,048 rows) in one go.
 */
export async function appendRowObjectsInTurns(chunk: DuckDBDataChunk, names: readonly string[], rows: Record<string, unknown>[]): Promise<void> {
  for (let from = 0; from < chunk.rowCount; from += ROWS_PER_TURN) {
    if (from > 0) await nextTurn();
    const to = Math.min(chunk.rowCount, from + ROWS_PER_TURN);
    for (let i = from; i < to; i++) {
      const row: Record<string, unknown> = {};
      chunk.visitRowValues(i, (value, _i, c, type) => (row[names[c]] = JsonDuckDBValueConverter(value, type, JsonDuckDBValueConverter)));
      rows.push(row);
    }
  }
}

/** The connection a pooled warehouse's transaction holds, for the statements inside it. */
const held = new AsyncLocalStorage<{ pool: ReadPool; conn: DuckDBConnection }>();

export class Warehouse {
  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    /** The one connection of a plain warehouse; null for a pool of readers. */
    private readonly single: DuckDBConnection | null,
    private readonly pool: ReadPool | null = null,
    /** Only the first connection owns (and closes) the database instance. */
    private readonly ownsInstance = true,
  ) {}

  /** The bounds every statement here runs under (unbounded for a plain warehouse). */
  get limits(): Readonly<ReadLimits> {
    return this.pool?.limits ?? UNLIMITED;
  }

  /**
   * The connection (for appenders and progress). A pool of readers has one only inside
   * `transaction()`; elsewhere use all/one/run.
   */
  get conn(): DuckDBConnection {
    const h = this.held();
    if (h) return h;
    if (this.single) return this.single;
    throw new Error('A pool of readers (Warehouse.readers) has no single connection: use all/one/run, or transaction() to hold one');
  }

  private held(): DuckDBConnection | undefined {
    const h = held.getStore();
    return h && h.pool === this.pool ? h.conn : undefined;
  }

  /** Runs one statement: on the single connection, or within limits on a pooled one (the held one in a transaction). */
  private withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const pool = this.pool;
    if (!pool) return fn(this.single!);
    const h = this.held();
    if (h) return pool.limited(h, () => fn(h));
    return pool.use((conn) => pool.limited(conn, () => fn(conn)));
  }

  /**
   * Another connection to the same database: its transactions and temp tables are its own, so a
   * long ingest batch never shares a transaction with the reads the API serves meanwhile.
   */
  async connect(): Promise<Warehouse> {
    const conn = await this.instance.connect();
    await Warehouse.configure(conn);
    return new Warehouse(this.path, this.instance, conn, null, false);
  }

  /**
   * A pool of `limits.connections` read connections to the same database, for the API: a
   * statement waits (at most the time limit) for a free connection, is interrupted past the time
   * limit and refused past the row cap. Same interface as a plain warehouse; close it before this one.
   */
  async readers(limits: Partial<ReadLimits> = {}): Promise<Warehouse> {
    const l: ReadLimits = { ...DEFAULT_READ_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
    if (!Number.isInteger(l.connections) || l.connections < 1) throw new CivicError(`A pool of readers needs at least one connection (got ${l.connections})`);
    const conns: DuckDBConnection[] = [];
    try {
      for (let i = 0; i < l.connections; i++) {
        const conn = await this.instance.connect();
        conns.push(conn);
        await Warehouse.configure(conn);
      }
    } catch (err) {
      for (const c of conns) c.closeSync();
      throw err;
    }
    return new Warehouse(this.path, this.instance, null, new ReadPool(conns, l), false);
  }

  /**
   * `memoryLimit` (e.g. "2GB"; default CIVIC_MEMORY_LIMIT, else `defaultMemoryLimit()`) caps
   * DuckDB's own memory: beyond it, large work spills to `<file>.tmp` instead of growing, and
   * what cannot spill fails with DuckDB's out-of-memory error instead of taking the machine.
   */
  static async open(path: string, opts: { memoryLimit?: string } = {}): Promise<Warehouse> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const memoryLimit = opts.memoryLimit ?? process.env.CIVIC_MEMORY_LIMIT ?? defaultMemoryLimit();
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, { memory_limit: memoryLimit });
    } catch (err) {
      if (/lock/i.test(String((err as Error).message))) throw new WarehouseLockedError(path, err);
      throw err;
    }
    const conn = await instance.connect();
    await Warehouse.configure(conn);
    const wh = new Warehouse(path, instance, conn, null, true);
    await wh.migrate();
    return wh;
  }

  private static async configure(conn: DuckDBConnection): Promise<void> {
    // Times render in UTC whatever the host's zone: strftime on a TIMESTAMPTZ uses the session
    // zone, and our ISO strings end in "Z". Local days are always cut with an explicit zone.
    await conn.run(`SET TimeZone = 'UTC'`);
    // Progress is only tracked when the progress bar is on; we read it, DuckDB must not print it.
    await conn.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
  }

  /**
   * Rows as plain JSON-safe objects (BIGINT as string: cast counts in SQL). Past the row cap
   * (`opts.maxRows`, and the pool's `maxQueryRows`) a TooManyRowsError (413), read from a stream
   * so the rows beyond it are never built.
   */
  async all<T = Row>(sql: string, params: Params = {}, opts: ReadOptions = {}): Promise<T[]> {
    const cap = Math.min(opts.maxRows ?? Infinity, this.limits.maxQueryRows);
    return this.withConnection(async (conn) => {
      if (!Number.isFinite(cap)) return (await conn.runAndReadAll(sql, params)).getRowObjectsJson() as T[];
      // A chunk (at most 2,048 rows) at a time, fetched off the main thread, and converted on it
      // a slice of rows per turn of the event loop, so a large answer never holds the loop for
      // long (the server's other requests, /api/health first, are answered in between). A whole
      // chunk of a KPI table at once (26 columns, a map among them) was 30–70 ms in one go.
      // Converted as the node API's yieldRowObjectJson converts (its column names, its converter).
      const result = await conn.stream(sql, params);
      const names = result.deduplicatedColumnNames();
      const rows: T[] = [];
      const counted = new RowCount(opts.partOf);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const from = rows.length;
        await appendRowObjectsInTurns(chunk, names, rows as Record<string, unknown>[]);
        if (counted.add(rows, from) > cap) {
          // Ends the unread stream (and its transaction) before the connection goes back.
          await conn.run('SELECT 1');
          throw new TooManyRowsError(cap, opts.what ?? 'rows from the warehouse');
        }
      }
      return rows;
    });
  }

  /**
   * Rows as `all` gives them, except the DOUBLE[] columns named in `lists`, which come as
   * Float64Arrays (a NULL list as an empty one). A chunk's list elements are read in one call off
   * DuckDB's vector (duckdb_vector_get_data, as the node API reads a DOUBLE vector, and without
   * its per-row copies), so millions of numbers — every case's duration, for Kaplan–Meier — cross
   * into JavaScript in milliseconds; as JSON values they took longer than the query. The lists
   * must hold no NULL (their elements' validity is not read). The same row cap as `all`. With an
   * `arena`, the lists are carved out of its reused blocks (fresh memory is slow to first touch):
   * valid until the arena is released.
   */
  async allWithLists<L extends string, T = Row>(sql: string, params: Params, lists: readonly L[], opts: ReadOptions & { arena?: DoubleArena } = {}): Promise<(T & Record<L, Float64Array>)[]> {
    const cap = Math.min(opts.maxRows ?? Infinity, this.limits.maxQueryRows);
    return this.withConnection(async (conn) => {
      const result = await conn.stream(sql, params);
      const names = result.columnNames();
      const types = result.columnTypes().map(String);
      const problem =
        lists.filter((l) => !names.includes(l)).map((l) => `no column ${l}`)[0] ??
        names.flatMap((name, c) => ((lists as readonly string[]).includes(name) && types[c] !== 'DOUBLE[]' ? [`${name} is ${types[c]}, not DOUBLE[]`] : []))[0];
      if (problem) {
        await conn.run('SELECT 1'); // ends the unread stream before the connection goes back
        throw new Error(`allWithLists: ${problem}`);
      }
      const rows: (T & Record<L, Float64Array>)[] = [];
      const counted = new RowCount(opts.partOf);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const from = rows.length;
        const n = chunk.rowCount;
        // The lists in one call each; the other columns converted ROWS_PER_TURN rows per turn of
        // the event loop, as `all` converts: a whole chunk of a KPI table's parts at once (2,048
        // rows: a map, dimensions, dates) held it 15–40 ms.
        const columns = names.map((name, c) =>
          (lists as readonly string[]).includes(name)
            ? { name, lists: readDoubleLists(duckdbBindings.data_chunk_get_vector(chunk.chunk, c), n, opts.arena) }
            : { name, vector: chunk.getColumnVector(c), json: new Array<unknown>(n) });
        for (let start = 0; start < n; start += ROWS_PER_TURN) {
          if (start > 0) await nextTurn();
          const end = Math.min(n, start + ROWS_PER_TURN);
          for (const col of columns) {
            if (!col.vector) continue;
            const { vector, json } = col;
            const type = vector.type;
            for (let i = start; i < end; i++) json[i] = JsonDuckDBValueConverter(vector.getItem(i), type, JsonDuckDBValueConverter);
          }
        }
        for (let i = 0; i < n; i++) {
          const row: Record<string, unknown> = {};
          for (const col of columns) row[col.name] = col.json ? col.json[i] : col.lists![i];
          rows.push(row as T & Record<L, Float64Array>);
        }
        if (counted.add(rows, from) > cap) {
          await conn.run('SELECT 1');
          throw new TooManyRowsError(cap, opts.what ?? 'rows from the warehouse');
        }
      }
      return rows;
    });
  }

  /**
   * Rows as `all` gives them, for a long answer of text (a case list's download), read as JSON
   * that DuckDB writes: `sql` must number its rows in order in a column `rn` (1, 2, …); the rows'
   * `columns` come back as one JSON array of arrays per RN_CHUNK rows, parsed here, so a chunk
   * crosses into JavaScript as one string. `all` reads each text value over 12 bytes with a call
   * into DuckDB of its own: on the bench's 5M cases, 4 weeks of case rows (385,250, 17 columns,
   * 8 text and 5 times as text) took 10–14 s that way, 3.4 s this way. Only columns of JSON's
   * own types (JSON_TYPES), whose values JSON.parse gives back exactly as `all` converts them
   * (db.test.ts compares the two), are read: any other column is refused before the query runs
   * (a BIGINT would lose digits, a DECIMAL its scale), and a DOUBLE that is NaN or infinite
   * fails the read. The same row cap as `all`.
   */
  async allAsJson<T = Row>(sql: string, params: Params, columns: readonly string[], opts: Omit<ReadOptions, 'partOf'> = {}): Promise<T[]> {
    const cap = Math.min(opts.maxRows ?? Infinity, this.limits.maxQueryRows);
    const quoted = columns.map((c) => `"${c.replaceAll('"', '""')}"`);
    const chunked = `SELECT '[' || string_agg(json_array(${quoted.join(', ')})::VARCHAR, ',' ORDER BY rn) || ']' AS rows
FROM (${sql}) numbered
GROUP BY (rn - 1) // ${RN_CHUNK}
ORDER BY (rn - 1) // ${RN_CHUNK}`;
    return this.withConnection(async (conn) => {
      const prepared = await conn.prepare(sql);
      const types = new Map(Array.from({ length: prepared.columnCount }, (_, c) => [prepared.columnName(c), String(prepared.columnType(c))]));
      const problem =
        (['rn', ...columns].filter((c) => !types.has(c)).map((c) => `no column ${c}`)[0]) ??
        columns.flatMap((c) => (JSON_TYPES.has(types.get(c)!) ? [] : [`${c} is ${types.get(c)}, which JSON would not give back as it is`]))[0];
      if (problem) throw new Error(`allAsJson: ${problem}`);
      const result = await conn.stream(chunked, params);
      const rows: T[] = [];
      let ended = false;
      try {
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) break;
          const texts = chunk.getColumnVector(0);
          for (let i = 0; i < chunk.rowCount; i++) {
            // One JSON text per RN_CHUNK rows, parsed in one go (a few milliseconds), a turn between.
            if (rows.length > 0) await nextTurn();
            for (const values of JSON.parse(texts.getItem(i) as string) as unknown[][]) {
              const row: Record<string, unknown> = {};
              for (let c = 0; c < columns.length; c++) row[columns[c]] = values[c];
              rows.push(row as T);
            }
            if (rows.length > cap) throw new TooManyRowsError(cap, opts.what ?? 'rows from the warehouse');
          }
        }
        ended = true;
        return rows;
      } finally {
        // A read that stopped early (the cap, a text that did not parse) ends its unread stream
        // before the connection goes back.
        if (!ended) await conn.run('SELECT 1');
      }
    });
  }

  async one<T = Row>(sql: string, params: Params = {}): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Runs a statement; values bound by name ($name), or by position ($1, $2…) from an array. */
  async run(sql: string, params: Params | DuckDBValue[] = {}): Promise<void> {
    await this.withConnection((conn) => conn.run(sql, params));
  }

  /**
   * Appends rows made of whole INTEGER columns (equal lengths, no NULLs) to `table` in `schema`
   * ('temp' for a temp table), in order, on this warehouse's connection (`conn`): a vector of
   * 2,048 rows at a time, its values written in JavaScript and handed to DuckDB in one call,
   * where an appender's appendInteger and endRow cross into native code per value and per row
   * (the place step's million points: ingest/places.ts). The table has as many columns, INTEGER,
   * in the same order.
   */
  async appendIntegers(table: string, columns: readonly Int32Array[], schema = 'temp'): Promise<void> {
    const rows = columns[0]?.length ?? 0;
    if (columns.some((c) => c.length !== rows)) throw new Error(`appendIntegers: columns of ${columns.map((c) => c.length).join(', ')} values`);
    if (rows === 0) return;
    const size = duckdbBindings.vector_size();
    const types = columns.map(() => DuckDBIntegerType.instance);
    const appender = await this.conn.createAppender(table, 'main', schema);
    try {
      for (let from = 0; from < rows; from += size) {
        const n = Math.min(size, rows - from);
        const chunk = DuckDBDataChunk.create(types, n);
        columns.forEach((column, c) => {
          const vector = chunk.getColumnVector(c) as DuckDBIntegerVector;
          for (let i = 0; i < n; i++) vector.setItem(i, column[from + i]);
          vector.flush();
        });
        appender.appendDataChunk(chunk);
      }
    } finally {
      appender.closeSync();
    }
  }

  /** Runs a write and returns how many rows it changed. */
  async changed(sql: string, params: Params = {}): Promise<number> {
    return this.withConnection(async (conn) => Number((await conn.run(sql, params)).rowsChanged));
  }

  /** DuckDB's progress on the statement now running on this connection (0–100, or -1 if unknown). */
  progress(): number {
    if (this.pool && !this.held()) return -1;
    return this.conn.progress.percentage;
  }

  /**
   * Runs `fn` with every statement on one connection, without a transaction: for work kept in
   * temp tables, which are their connection's (an ingest batch builds its rows so before its
   * transaction). A plain warehouse has one connection anyway.
   */
  async session<T>(fn: () => Promise<T>): Promise<T> {
    const pool = this.pool;
    if (pool && !this.held()) return pool.use((conn) => held.run({ pool, conn }, fn));
    return fn();
  }

  /**
   * Runs `fn` in one transaction: all of it lands, or none of it. On a pool of readers the
   * transaction holds one connection, which every statement inside `fn` runs on.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const pool = this.pool;
    if (pool && !this.held()) return pool.use((conn) => held.run({ pool, conn }, () => this.transaction(fn)));
    await this.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.run('COMMIT');
      return out;
    } catch (err) {
      await this.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async migrate(): Promise<string[]> {
    await this.conn.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const done = new Set((await this.all<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const applied: string[] = [];
    for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_.*\.sql$/.test(f)).sort()) {
      if (done.has(file)) continue;
      const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
      await this.transaction(async () => {
        await this.conn.run(sql);
        await this.conn.run('INSERT INTO schema_migrations (version) VALUES ($v)', { v: file });
      });
      applied.push(file);
    }
    return applied;
  }

  /** How many statements can run at once (1 for a plain warehouse). */
  get connections(): number {
    return this.pool?.size ?? 1;
  }

  close(): void {
    if (this.pool) this.pool.close();
    else this.single!.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}

/**
 * DuckDB's cap when none is configured: a quarter of the machine's memory (a container's limit
 * when it has one), at least 1 GiB and at most 8 GiB. DuckDB's own default (80%) let one hostile
 * upload take the whole machine; a quarter leaves room for Node, the operating system and
 * whatever else runs there.
 */
export function defaultMemoryLimit(total = availableMemory()): string {
  const mib = Math.min(8192, Math.max(1024, Math.floor(total / 4 / 2 ** 20)));
  return `${mib}MiB`;
}

/** The process's memory: the container's (cgroup) limit when there is one, else the machine's. */
function availableMemory(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < totalmem() ? constrained : totalmem();
}

const modelCache = new Map<string, string>();
/** A fixed query from warehouse/models/<name>.sql. */
export function model(name: string): string {
  let sql = modelCache.get(name);
  if (sql === undefined) {
    sql = readFileSync(join(MODELS_DIR, `${name}.sql`), 'utf8');
    modelCache.set(name, sql);
  }
  return sql;
}

/**
 * A built query with only the values its SQL names: builders share common values (zone,
 * format…) that not every variant uses, and DuckDB refuses a value with no `$name` to bind to.
 */
export function query(sql: string, params: Params): Query {
  const used = new Set([...sql.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
  return { sql, params: Object.fromEntries(Object.entries(params).filter(([k]) => used.has(k))) };
}

/** Double-quotes an identifier that has already been checked against an allow-list. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
