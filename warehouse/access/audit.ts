// Who read staff data: one row per request to a staff or admin route by an identified caller (its
// principal and scope, the route and parameters, the status, how many rows it got, when), and per
// sign-in and sign-out. Append-only; admins read it (GET /api/audit, civic audit).
import type { DuckDBValue } from '@duckdb/node-api';
import type { Warehouse } from '../db.ts';
import { CivicError } from '../errors.ts';
import { ISO, type Role } from './tokens.ts';

export interface AuditEntry {
  /** ISO time the request arrived. */
  at: string;
  request_id: string | null;
  principal_id: string;
  principal_name: string;
  role: Role;
  agencies: string[] | null;
  via: string;
  method: string;
  route: string;
  parameters: Record<string, unknown>;
  status: number;
  rows_returned: number | null;
  duration_ms: number | null;
}

export interface AuditRow extends AuditEntry { audit_id: number }

export async function recordAudit(wh: Warehouse, e: AuditEntry): Promise<void> {
  await recordAudits(wh, [e]);
}

/**
 * Several audit rows in one statement (every value bound): a server under load writes what
 * arrived while its last write ran in one go (api/plugins/audit.ts) — one INSERT was about 5 ms
 * of DuckDB, as much as the rest of a request answered from memory. The values are bound by
 * position ($1, $2…): DuckDB finds a named parameter by walking the statement's names, so 200
 * rows' 2,600 names cost a second of CPU per 15,000 requests under the HTTP bench's load.
 */
export async function recordAudits(wh: Warehouse, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const values: DuckDBValue[] = [];
  const p = (value: string | number | null) => {
    values.push(value);
    return `$${values.length}`;
  };
  const rows = entries.map((e) => {
    const agencies = e.agencies ? `[${e.agencies.map((a) => p(a)).join(', ')}]::VARCHAR[]` : 'NULL::VARCHAR[]';
    const duration = e.duration_ms === null ? null : Math.round(e.duration_ms * 1000) / 1000;
    return `(${p(e.at)}::TIMESTAMPTZ, ${p(e.request_id)}, ${p(e.principal_id)}, ${p(e.principal_name)}, ` +
      `${p(e.role)}, ${agencies}, ${p(e.via)}, ${p(e.method)}, ${p(e.route)}, ${p(JSON.stringify(e.parameters))}, ` +
      `${p(e.status)}, ${p(e.rows_returned)}, ${p(duration)})`;
  });
  await wh.run(
    `INSERT INTO audit_log (requested_at, request_id, principal_id, principal_name, role, agencies, via, method, route, parameters, status, rows_returned, duration_ms)
     VALUES ${rows.join(',\n            ')}`,
    values,
  );
}

export interface AuditQuery {
  /** From this time (ISO), or from the start of this UTC day (YYYY-MM-DD), inclusive. */
  since?: string;
  /** Up to this time, or to the end of this UTC day, inclusive. */
  until?: string;
  /** A principal's id (token id, oidc:<subject>, local-admin) or name. */
  principal?: string;
  /** A route pattern (/api/kpis); a prefix ending in / matches every route under it. */
  route?: string;
  limit: number;
  offset: number;
}

/** A date (a whole UTC day) or a date-time; `end` makes a date mean the end of its day. */
function auditTime(value: string, name: string, parameter: string, end: boolean): string {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T${end ? '23:59:59.999' : '00:00:00.000'}Z`) : /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw new CivicError(`${name} "${value}" is not a date (2026-11-01) or a date-time (2026-11-01T08:00:00Z)`, { parameter });
  return date.toISOString();
}

/** The audit rows that match, newest first, with how many match in all. */
export async function readAudit(wh: Warehouse, q: AuditQuery, locations: { since?: string; until?: string } = {}): Promise<{ total: number; entries: AuditRow[] }> {
  const params = {
    since: q.since ? auditTime(q.since, 'since', locations.since ?? 'since', false) : null,
    until: q.until ? auditTime(q.until, 'until', locations.until ?? 'until', true) : null,
    principal: q.principal ?? null,
    route: q.route ?? null,
  };
  const where = `($since IS NULL OR requested_at >= $since::TIMESTAMPTZ) AND ($until IS NULL OR requested_at <= $until::TIMESTAMPTZ)
    AND ($principal IS NULL OR principal_id = $principal OR principal_name = $principal)
    AND ($route IS NULL OR route = $route OR (suffix($route, '/') AND starts_with(route, $route)))`;
  const total = (await wh.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM audit_log WHERE ${where}`, params))!.n;
  const rows = await wh.all<Omit<AuditRow, 'parameters'> & { parameters: string }>(
    `SELECT audit_id::DOUBLE AS audit_id, strftime(requested_at, ${ISO}) AS at, request_id, principal_id, principal_name, role, agencies, via, method, route,
            parameters, status, rows_returned, duration_ms
     FROM audit_log WHERE ${where} ORDER BY requested_at DESC, audit_id DESC LIMIT $limit OFFSET $offset`,
    { ...params, limit: q.limit, offset: q.offset },
  );
  return { total, entries: rows.map((r) => ({ ...r, parameters: JSON.parse(r.parameters) as Record<string, unknown> })) };
}
