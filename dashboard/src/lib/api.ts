// The dashboard's only link to the server: HTTP, with types imported from the API's schemas.
import type { KpiResponseBody } from '../../../api/routes/kpis/schema.ts';

export type { KpiResponseBody, KpiRowBody } from '../../../api/routes/kpis/schema.ts';

export interface Health { status: 'ok'; data_as_of: string | null; cases: number; jurisdiction: string; timezone: string }

/** An answer that was not a success; `status` 401 means: sign in (again). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown, fetcher: typeof fetch = fetch): Promise<T> {
  const res = await fetcher(path, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    // The session cookie goes with every request to our own origin (it is HttpOnly: scripts never see it).
    credentials: 'same-origin',
  });
  if (!res.ok) {
    const answer = await res.json().catch(() => ({ message: res.statusText }));
    throw new ApiError(res.status, answer.message ?? String(res.status));
  }
  return res.json() as Promise<T>;
}

const getJson = <T>(path: string, fetcher?: typeof fetch) =>
  call<T>('GET', path, undefined, fetcher).catch((e: unknown) => {
    throw e instanceof ApiError ? new ApiError(e.status, `${path}: ${e.message}`) : e;
  });

/** Who is signed in (GET /api/session). */
export interface SessionInfo { signed_in: boolean; name?: string; role?: string; agencies?: string[] | null; via?: string; expires_at?: string | null }
export const getSession = (f?: typeof fetch) => call<SessionInfo>('GET', '/api/session', undefined, f);
/** Exchanges a token for the session cookie (POST /api/session). */
export const signIn = (token: string) => call<SessionInfo>('POST', '/api/session', { token });
export const signOut = () => call<SessionInfo>('DELETE', '/api/session');

/** Where the sign-in page sends the user afterwards: a path of this site only. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') && !next.startsWith('/signin') ? next : '/';
}

export const getHealth = (f?: typeof fetch) => getJson<Health>('/api/health', f);

/** A measure's label, unit and definition, from the registry (GET /api/measures). */
export interface MeasureInfo { name: string; label: string; unit: string; definition: string }
export const getMeasures = (f?: typeof fetch) => getJson<{ measures: MeasureInfo[] }>('/api/measures', f);

export function getKpis(params: { by: string; from?: string; to?: string }, f?: typeof fetch) {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])));
  return getJson<KpiResponseBody>(`/api/kpis?${q}`, f);
}
