// Admin work (tokens, rejects, the audit log) from the command line, whether or not the server is running.
// DuckDB lets one process open the file, so while the server holds it the CLI goes through the
// server's API, authenticated with the credential the server wrote beside the database; otherwise
// it opens the warehouse itself. Both ways run the same functions and print the same thing.
//
// The way through the server is also the quick one: it loads neither DuckDB nor the validated
// configuration (TypeBox alone takes most of a second to load), so its imports stay light and the
// rest is imported only when the warehouse has to be opened here.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CivicError } from '../../warehouse/errors.ts';
import type { Warehouse } from '../../warehouse/db.ts';
import type { RejectsPage } from '../routes/rejects/index.ts';
import type { AuditQuery, AuditRow } from '../../warehouse/access/audit.ts';
import * as tokens from '../../warehouse/access/tokens.ts';
import { readServerCredential, type CredentialLookup, type ServerCredential } from '../tokens.ts';
import type { Role, TokenInfo } from '../../warehouse/access/tokens.ts';

export interface CreatedToken extends TokenInfo { token: string; warnings: string[] }
export interface RevokedToken extends TokenInfo { revoked_now: boolean }
export interface Page { limit: number; offset: number }

export interface Admin {
  createToken(input: { role: Role; name: string; agencies?: string[]; expires_at?: string | null }): Promise<CreatedToken>;
  listTokens(): Promise<TokenInfo[]>;
  tokensCsv(): Promise<string>;
  /** null: no such token. */
  revokeToken(tokenId: string): Promise<RevokedToken | null>;
  /** A CivicError (404) when there is no such batch. */
  rejects(batchId: string, page: Page): Promise<RejectsPage>;
  rejectsCsv(batchId: string, page: Page): Promise<string>;
  /** Who read staff data, newest first. */
  audit(query: AuditQuery): Promise<{ total: number; entries: AuditRow[] }>;
  auditCsv(query: AuditQuery): Promise<string>;
}

async function directAdmin(wh: Warehouse): Promise<Admin> {
  const [{ readRejects, rejectsCsv, rejectsJson, unknownBatch }, { tokensCsv }, { readAudit }, { auditCsv }] = await Promise.all([
    import('../routes/rejects/index.ts'),
    import('../routes/tokens/index.ts'),
    import('../../warehouse/access/audit.ts'),
    import('../routes/audit/index.ts'),
  ]);
  const rejects = async (batchId: string, page: Page) => {
    const rows = await readRejects(wh, batchId, page);
    if (!rows) throw new CivicError(unknownBatch(batchId), { status: 404 });
    return rows;
  };
  return {
    async createToken(input) {
      const { token, token_id, warnings } = await tokens.createToken(wh, input);
      return { token, ...(await tokens.getToken(wh, token_id))!, warnings };
    },
    listTokens: () => tokens.listTokens(wh),
    tokensCsv: async () => tokensCsv(await tokens.listTokens(wh)),
    async revokeToken(tokenId) {
      const revokedNow = await tokens.revokeToken(wh, tokenId);
      const token = await tokens.getToken(wh, tokenId);
      return token && { ...token, revoked_now: revokedNow };
    },
    rejects: async (batchId, page) => rejectsJson(await rejects(batchId, page)),
    rejectsCsv: async (batchId, page) => rejectsCsv(await rejects(batchId, page)),
    audit: (query) => readAudit(wh, query),
    auditCsv: async (query) => auditCsv((await readAudit(wh, query)).entries),
  };
}

/** The server did not answer at all, so nothing was done: its credential file is stale. */
class ServerGone extends Error {}

function httpAdmin(credential: ServerCredential, file: string): Admin {
  /** The response, or null for a 404 when `notFound` is 'null'. */
  async function call(method: string, path: string, body?: unknown, notFound: 'null' | 'throw' = 'throw'): Promise<Response | null> {
    let res: Response;
    try {
      res = await fetch(new URL(path, credential.url), {
        method,
        headers: { authorization: `Bearer ${credential.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'ECONNREFUSED') throw new ServerGone();
      throw new CivicError(`Could not reach the server at ${credential.url} (from ${file}): ${code ?? (err as Error).message}`, { status: 503, cause: err });
    }
    if (res.status === 404 && notFound === 'null') return null;
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      if (res.status === 401) message += ` The server at ${credential.url} did not accept the credential in ${file}: was it restarted meanwhile? Try again.`;
      throw new CivicError(message, { status: res.status });
    }
    return res;
  }
  const page = ({ limit, offset }: Page, csv = false) => `?limit=${limit}&offset=${offset}${csv ? '&format=csv' : ''}`;
  const rejectsPath = (batchId: string) => `/api/ingest/batches/${encodeURIComponent(batchId)}/rejects`;
  const auditPath = (q: AuditQuery, csv = false) =>
    `/api/audit?${new URLSearchParams(Object.entries({ ...q, ...(csv ? { format: 'csv' } : {}) }).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]))}`;
  return {
    createToken: async (input) => (await (await call('POST', '/api/tokens', input))!.json()) as CreatedToken,
    listTokens: async () => ((await (await call('GET', '/api/tokens'))!.json()) as { tokens: TokenInfo[] }).tokens,
    tokensCsv: async () => (await call('GET', '/api/tokens?format=csv'))!.text(),
    revokeToken: async (tokenId) => ((await call('DELETE', `/api/tokens/${encodeURIComponent(tokenId)}`, undefined, 'null'))?.json() ?? null) as Promise<RevokedToken | null>,
    rejects: async (batchId, p) => (await (await call('GET', rejectsPath(batchId) + page(p)))!.json()) as RejectsPage,
    rejectsCsv: async (batchId, p) => (await call('GET', rejectsPath(batchId) + page(p, true)))!.text(),
    audit: async (q) => (await (await call('GET', auditPath(q)))!.json()) as { total: number; entries: AuditRow[] },
    auditCsv: async (q) => (await call('GET', auditPath(q, true)))!.text(),
  };
}

/**
 * Where the warehouse is, read the way api/config.ts reads it (--database, CIVIC_DATABASE,
 * "database" in CIVIC_CONFIG or civic.config.json, ./data/civic.duckdb) but without loading or
 * validating the rest: only to look for a running server's credential file. When it finds none
 * (or anything here fails), the command loads the validated configuration and looks again.
 */
function databaseHint(values: { database?: string }, env = process.env, cwd = process.cwd()): string | null {
  try {
    let database = values.database || env.CIVIC_DATABASE;
    if (!database) {
      const file = resolve(cwd, env.CIVIC_CONFIG ?? 'civic.config.json');
      const raw = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { database?: unknown }) : {};
      database = typeof raw.database === 'string' ? raw.database : './data/civic.duckdb';
    }
    return database === ':memory:' ? null : resolve(cwd, database);
  } catch {
    return null;
  }
}

/**
 * Runs `fn` through the running server when one announced itself for this database, else on the
 * warehouse file. `fn` should make one call and print after it: a stale credential file is only
 * discovered when the call is refused, and then `fn` runs again, on the file.
 */
export async function withAdmin<T>(values: { database?: string }, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const tried = new Set<string>();
  const viaServer = async (lookup: CredentialLookup): Promise<{ done: true; value: T } | { done: false }> => {
    if (lookup.state !== 'found' || tried.has(lookup.path)) return { done: false };
    tried.add(lookup.path);
    try {
      return { done: true, value: await fn(httpAdmin(lookup.credential, lookup.path)) };
    } catch (err) {
      if (err instanceof ServerGone) return { done: false };
      throw err;
    }
  };

  const hint = databaseHint(values);
  if (hint) {
    const quick = await viaServer(readServerCredential(hint));
    if (quick.done) return quick.value;
  }

  const [{ cliConfig }, db] = await Promise.all([import('./warehouse.ts'), import('../../warehouse/db.ts')]);
  const config = cliConfig(values);
  const lookup = config.database === ':memory:' ? null : readServerCredential(config.database);
  if (lookup) {
    const r = await viaServer(lookup);
    if (r.done) return r.value;
  }
  let wh: Warehouse;
  try {
    wh = await db.Warehouse.open(config.database, { memoryLimit: config.memory_limit ?? undefined });
  } catch (err) {
    if (!(err instanceof db.WarehouseLockedError)) throw err;
    const why =
      lookup?.state === 'unreadable' ? `its credential file ${lookup.path} cannot be read: ${lookup.reason}`
      : lookup?.state === 'found' ? `the server in ${lookup.path} (${lookup.credential.url}) does not answer`
      : lookup?.state === 'stale' ? `the server that wrote ${lookup.path} has stopped (${lookup.reason})`
      : `no running server left a credential file beside it (${lookup?.path ?? 'none for :memory:'}): another program holds it, or a server started before this version`;
    throw new CivicError(`The warehouse ${config.database} is in use by another process, and ${why}. Stop that process (or restart the server) and try again.`, { status: 503, cause: err });
  }
  try {
    return await fn(await directAdmin(wh));
  } finally {
    wh.close();
  }
}
