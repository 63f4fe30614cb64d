// The one door to DuckDB. Everything above this layer speaks SQL text + bound values through
// `Warehouse`; nothing else imports @duckdb/node-api, so moving to snapshots or a Parquet lake
// stays a change of this folder.
import { CivicError } from './errors.ts';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
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

export class Warehouse {
  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    /** Only the first connection owns (and closes) the database instance. */
    private readonly ownsInstance = true,
  ) {}

  /**
   * Another connection to the same database: its transactions and temp tables are its own, so a
   * long ingest batch never shares a transaction with the reads the API serves meanwhile.
   */
  async connect(): Promise<Warehouse> {
    const conn = await this.instance.connect();
    await Warehouse.configure(conn);
    return new Warehouse(this.path, this.instance, conn, false);
  }

  /**
   * `memoryLimit` (e.g. "2GB"; default CIVIC_MEMORY_LIMIT, else DuckDB's 80% of RAM) caps DuckDB's
   * own memory: beyond it, large ingest batches spill to `<file>.tmp` instead of growing.
   */
  static async open(path: string, opts: { memoryLimit?: string } = {}): Promise<Warehouse> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const memoryLimit = opts.memoryLimit ?? process.env.CIVIC_MEMORY_LIMIT;
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, memoryLimit ? { memory_limit: memoryLimit } : undefined);
    } catch (err) {
      if (/lock/i.test(String((err as Error).message))) throw new WarehouseLockedError(path, err);
      throw err;
    }
    const conn = await instance.connect();
    await Warehouse.configure(conn);
    const wh = new Warehouse(path, instance, conn);
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

  /** Rows as plain JSON-safe objects (BIGINT as string: cast counts in SQL). */
  async all<T = Row>(sql: string, params: Params = {}): Promise<T[]> {
    const reader = await this.conn.runAndReadAll(sql, params);
    return reader.getRowObjectsJson() as T[];
  }

  async one<T = Row>(sql: string, params: Params = {}): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: Params = {}): Promise<void> {
    await this.conn.run(sql, params);
  }

  /** Runs a write and returns how many rows it changed. */
  async changed(sql: string, params: Params = {}): Promise<number> {
    return Number((await this.conn.run(sql, params)).rowsChanged);
  }

  /** DuckDB's progress on the statement now running on this connection (0–100, or -1 if unknown). */
  progress(): number {
    return this.conn.progress.percentage;
  }

  /** Runs `fn` in one transaction: all of it lands, or none of it. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
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

  close(): void {
    this.conn.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
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
