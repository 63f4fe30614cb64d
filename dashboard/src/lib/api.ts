// The dashboard's only link to the server: HTTP, with types imported from the API's schemas and
// the warehouse's result types (type-only imports: nothing of the server is bundled).
import type { KpiResponseBody } from '../../../api/routes/kpis/schema.ts';
import type { FindingsResult } from '../../../warehouse/analytics/findings.ts';
import type { EquityResult } from '../../../warehouse/analytics/equity.ts';
import type { CaseListBody as CasesBody, CaseDetailBody } from '../../../api/routes/cases/schema.ts';
import type { Overview as OverviewBody, TargetRow } from '../../../warehouse/analytics/overview.ts';
import type { SurvivalResult as SurvivalBody } from '../../../warehouse/analytics/survival.ts';
import type { ForecastResult as ForecastBody } from '../../../warehouse/analytics/forecast.ts';
import type { WhatIfResult as WhatIfBody } from '../../../warehouse/analytics/whatif.ts';
import type { ContactCentreResult as ContactBody, ContactDimensionsResult } from '../../../warehouse/analytics/contact-centre.ts';

export type { KpiResponseBody, KpiRowBody } from '../../../api/routes/kpis/schema.ts';
export type { FindingsResult, TrendFinding, AnomalyFinding } from '../../../warehouse/analytics/findings.ts';
export type { EquityResult } from '../../../warehouse/analytics/equity.ts';

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

/** A query string from parameters, leaving out empty ones (an empty value means "not given"). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

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
export interface MeasureInfo { name: string; label: string; unit: string; definition: string; kind?: string; cohort?: string; numerator?: string; denominator?: string }
export interface MeasuresBody { measures: MeasureInfo[]; contact_measures?: MeasureInfo[]; min_denominator?: number }
export const getMeasures = (f?: typeof fetch) => getJson<MeasuresBody>('/api/measures', f);

type Params = Record<string, string | number | undefined | null>;

export const getKpis = (params: Params, f?: typeof fetch) => getJson<KpiResponseBody>(`/api/kpis${query(params)}`, f);
export const getTrends = (params: Params, f?: typeof fetch) => getJson<FindingsResult>(`/api/trends${query(params)}`, f);
export const getEquity = (params: Params, f?: typeof fetch) => getJson<EquityResult>(`/api/equity${query(params)}`, f);

/** What the data can be filtered by (GET /api/dimensions). */
export interface Dimensions {
  services: { code: string | null; name: string; service_group: string | null; agency: string | null }[];
  service_groups: string[];
  agencies: string[];
  channels: string[];
  area_kinds: { kind: string; method: string; areas: number; default: boolean }[];
  areas: { kind: string; id: string; name: string }[];
  no_area_label: string;
  first_request: string | null;
  last_request: string | null;
  data_as_of: string | null;
}
export const getDimensions = (f?: typeof fetch) => getJson<Dimensions>('/api/dimensions', f);

/** GET /api/overview: headline figures with change and target, and the worst against target first. */
export type { Overview as OverviewBody, HeadlineFigure } from '../../../warehouse/analytics/overview.ts';
/** A row of the worst-first lists: a service (with its code) or an area (with its id). */
export type WorstRow = TargetRow & { service?: string; service_code?: string | null; area?: string; area_id?: string | null };
export const getOverview = (params: Params, f?: typeof fetch) => getJson<OverviewBody>(`/api/overview${query(params)}`, f);

/** The Kaplan–Meier curve of time to close (GET /api/survival). */
export type { SurvivalResult as SurvivalBody, SurvivalPoint, SurvivalGroup } from '../../../warehouse/analytics/survival.ts';
export const getSurvival = (params: Params, f?: typeof fetch) => getJson<SurvivalBody>(`/api/survival${query(params)}`, f);

/** The cases behind a count (GET /api/cases) and one case's trail (GET /api/cases/:id). */
export type { CaseListBody as CasesBody, CaseDetailBody, CaseRowBody as CaseRow } from '../../../api/routes/cases/schema.ts';
export const getCases = (params: Params, f?: typeof fetch) => getJson<CasesBody>(`/api/cases${query(params)}`, f);
export const getCase = (id: string, f?: typeof fetch) => getJson<CaseDetailBody>(`/api/cases/${encodeURIComponent(id)}`, f);

/** Call handling by channel, team and period (GET /api/contact-centre), and its teams and channels. */
export type { ContactCentreResult as ContactBody, ContactRow, ContactFinding, ContactDimensionsResult } from '../../../warehouse/analytics/contact-centre.ts';
export const getContactCentre = (params: Params, f?: typeof fetch) => getJson<ContactBody>(`/api/contact-centre${query(params)}`, f);
export const getContactDimensions = (f?: typeof fetch) => getJson<ContactDimensionsResult>('/api/contact-centre/dimensions', f);

/** Weekly demand forecasts with their backtests (GET /api/forecast). */
export type { ForecastResult as ForecastBody, SeriesForecast } from '../../../warehouse/analytics/forecast.ts';
export const getForecast = (params: Params, f?: typeof fetch) => getJson<ForecastBody>(`/api/forecast${query(params)}`, f);

/** What moving crews between areas would do (GET /api/whatif). */
export type { WhatIfResult as WhatIfBody, WhatIfArea, WhatIfFitted } from '../../../warehouse/analytics/whatif.ts';
export const getWhatIf = (params: Params, f?: typeof fetch) => getJson<WhatIfBody>(`/api/whatif${query(params)}`, f);

/** The planners' map layers (GeoJSON, with the window and parameters in the collection's properties). */
export interface MapLayer { type: 'FeatureCollection'; features: { type: 'Feature'; geometry: unknown; properties: Record<string, unknown> }[]; properties: Record<string, unknown> }
export const getMapAreas = (params: Params, f?: typeof fetch) => getJson<MapLayer>(`/api/map/areas${query(params)}`, f);
export const getMapHotspots = (params: Params, f?: typeof fetch) => getJson<MapLayer>(`/api/map/hotspots${query(params)}`, f);
/** Places where the same service was asked for again soon after a close (GET /api/repeat-locations). */
export interface RepeatPlace { h3: string; centre: [number, number]; area: string | null; service: string; requests: number; repeats: number; repeat_share: number; first_request: string; last_request: string; last_repeat: string | null }
export interface RepeatsBody { from: string; to: string; as_of: string; timezone: string; area_kind: string; days: number; resolution: number; places_total: number; repeats_total: number; limit: number; places: RepeatPlace[]; definition: string; sentence: string }
export const getRepeats = (params: Params, f?: typeof fetch) => getJson<RepeatsBody>(`/api/repeat-locations${query(params)}`, f);

/** Scheduled reports: definitions with their next run times, runs with each recipient's delivery (GET /api/reports…). */
export type { RunRecord, DeliveryRecord, RunFile } from '../../../warehouse/analytics/report-runs.ts';
import type { RunRecord, DeliveryRecord } from '../../../warehouse/analytics/report-runs.ts';
export interface ReportDefinitionView {
  id: string; title: string; views: string[]; filter: Record<string, string>; area_kind?: string; period: 'week' | 'month'; formats: string[];
  cron: string | null; timezone: string | null; effective_timezone: string; recipients: string[]; audience: 'staff' | 'public'; owner: string | null;
  agencies: string[] | null; enabled: boolean; source: 'config' | 'api' | 'built-in'; next_runs: string[]; running_run: string | null;
}
export type RunListRow = RunRecord & { deliveries: { sent: number; failed: number; sending: number } };
export type RunDetail = RunRecord & { deliveries: DeliveryRecord[]; retried_by: string[] };
export const getReports = (f?: typeof fetch) => getJson<{ reports: ReportDefinitionView[] }>('/api/reports', f);
export const getRuns = (params: Params, f?: typeof fetch) => getJson<{ total: number; runs: RunListRow[] }>(`/api/reports/runs${query(params)}`, f);
export const getRun = (id: string, f?: typeof fetch) => getJson<RunDetail>(`/api/reports/runs/${encodeURIComponent(id)}`, f);
export const runReportNow = (id: string) => call<{ run_id: string }>('POST', `/api/reports/${encodeURIComponent(id)}/run`);
export const retryRun = (id: string) => call<{ run_id: string; recipients: string[] }>('POST', `/api/reports/runs/${encodeURIComponent(id)}/retry`);

/** Alerts: subscriptions to findings for a scope, and what each sent (GET/POST/DELETE /api/alerts). */
export type { AlertSubscription, AlertEvent } from '../../../warehouse/analytics/alerts.ts';
import type { AlertSubscription, AlertEvent } from '../../../warehouse/analytics/alerts.ts';
export const getAlerts = (f?: typeof fetch) => getJson<{ subscriptions: AlertSubscription[] }>('/api/alerts', f);
export const getAlertEvents = (id: string, f?: typeof fetch) => getJson<{ subscription_id: string; events: AlertEvent[] }>(`/api/alerts/${encodeURIComponent(id)}/events`, f);
export const createAlert = (body: Record<string, unknown>) => call<AlertSubscription & { webhook_secret: string | null }>('POST', '/api/alerts', body);
export const deleteAlert = (id: string) => call<unknown>('DELETE', `/api/alerts/${encodeURIComponent(id)}`);
