// The dashboard's only link to the server: HTTP, with types imported from the API's schemas.
import type { KpiResponseBody } from '../../../api/routes/kpis/schema.ts';

export type { KpiResponseBody, KpiRowBody } from '../../../api/routes/kpis/schema.ts';

export interface Health { status: 'ok'; data_as_of: string | null; cases: number; jurisdiction: string; timezone: string }

async function getJson<T>(path: string, fetcher: typeof fetch = fetch): Promise<T> {
  const res = await fetcher(path, { headers: { accept: 'application/json' } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({ message: res.statusText }));
    throw new Error(`${path}: ${body.message ?? res.status}`);
  }
  return res.json() as Promise<T>;
}

export const getHealth = (f?: typeof fetch) => getJson<Health>('/api/health', f);

/** A measure's label, unit and definition, from the registry (GET /api/measures). */
export interface MeasureInfo { name: string; label: string; unit: string; definition: string }
export const getMeasures = (f?: typeof fetch) => getJson<{ measures: MeasureInfo[] }>('/api/measures', f);

export function getKpis(params: { by: string; from?: string; to?: string }, f?: typeof fetch) {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])));
  return getJson<KpiResponseBody>(`/api/kpis?${q}`, f);
}
