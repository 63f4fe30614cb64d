// What the public pages show, gathered from the one protected release (warehouse/analytics/
// public-kpis.ts): every figure on a page is a cell of it, withheld or rounded exactly as
// /api/public/kpis gives it, so a page, its CSV and the API cannot disagree. Nothing here reads
// the warehouse itself; targets (configuration, not data) and the area outlines are the only
// other inputs.
import type { Warehouse } from '../../warehouse/db.ts';
import { publicKpis, publicTrends, type PublicKpisResult, type PublicRow, type PublicTable, type PublicTrendFinding } from '../../warehouse/analytics/public-kpis.ts';
import { onTimeTargets, DEFAULT_TARGETS, type TargetsConfig } from '../../warehouse/analytics/targets.ts';
import { loadAreaPolygons, type AreaPolygon } from '../../warehouse/analytics/area-locator.ts';
import { dataCoverage, dataSources, type DataSources } from '../../warehouse/analytics/data-sources.ts';
import type { Missing } from './format.ts';
import { SOURCE_AREA_KIND } from '../../warehouse/queries/case-predicates.ts';
import type { DisclosurePolicy, PublicPeriod } from '../../warehouse/privacy/policy.ts';

export interface PublicSiteOptions {
  policy: DisclosurePolicy;
  targets?: TargetsConfig;
  jurisdiction: { name: string; timezone: string };
  period?: PublicPeriod;
}

export interface TargetView {
  /** The target as a share, when every service of the row has the same one. */
  value: number | null;
  /** The range of its services' targets, when they differ. */
  range: [number, number] | null;
}

export interface PublicView {
  jurisdiction: string;
  timezone: string;
  release: PublicKpisResult;
  /** Total, by service group, by area and by service: the whole period (margin over time). */
  total: PublicRow | null;
  byGroup: PublicRow[];
  byService: PublicRow[];
  byArea: PublicRow[];
  /** The same by period. */
  totalByPeriod: PublicRow[];
  groupByPeriod: PublicRow[];
  areaByPeriod: PublicRow[];
  targetOfGroup: Map<string, TargetView>;
  targetOfService: Map<string, TargetView>;
  findings: PublicTrendFinding[];
  polygons: AreaPolygon[];
  /** Areas a reader can open (named areas, not "(no area)" or the sensitive services' row). */
  areaNames: string[];
  /** Figures the data cannot give at all (no due times, no survey answers), with why. */
  missing: Missing;
}

const tableBy = (r: PublicKpisResult, ...by: string[]): PublicTable | undefined => r.tables.find((t) => t.by.length === by.length && by.every((d, i) => t.by[i] === d));

function targetView(targets: number[]): TargetView {
  if (targets.length === 0) return { value: null, range: null };
  const lo = Math.min(...targets);
  const hi = Math.max(...targets);
  return lo === hi ? { value: lo, range: null } : { value: null, range: [lo, hi] };
}

export async function publicView(wh: Warehouse, o: PublicSiteOptions): Promise<PublicView> {
  const period = o.period ?? 'month';
  const opts = { period, policy: o.policy, timezone: o.jurisdiction.timezone };
  const [release, services, trendsAll, trendsGroups] = await Promise.all([
    publicKpis(wh, ['service_group', 'area', period], opts),
    publicKpis(wh, ['service'], opts),
    publicTrends(wh, [], opts),
    publicTrends(wh, ['service_group'], opts),
  ]);
  const byService = tableBy(services, 'service')?.rows ?? [];
  const byGroup = tableBy(release, 'service_group')?.rows ?? [];
  // Targets are configuration, not data: a service's is public; a group's is stated only when its
  // services share one (a case-weighted target would be weighted by counts the release withholds).
  const t = await onTimeTargets(wh, o.targets ?? DEFAULT_TARGETS);
  const targetOfService = new Map(byService.map((r) => [r.service!, targetView([t.forService(r.service!)])]));
  const targetOfGroup = new Map(
    byGroup.map((g) => [g.service_group!, targetView(byService.filter((s) => s.service_group === g.service_group).map((s) => t.forService(s.service!)))]),
  );
  const byArea = tableBy(release, 'area')?.rows ?? [];
  const polygons = release.area_kind === SOURCE_AREA_KIND ? [] : await loadAreaPolygons(wh, release.area_kind);
  const coverage = await dataCoverage(wh);
  const missing: Missing = {};
  if (coverage.with_due_time === 0) missing.on_time_rate = 'no due times in the data';
  if (coverage.survey_answers === 0) missing.csat_top2 = 'no surveys in the data';
  return {
    jurisdiction: o.jurisdiction.name,
    timezone: release.timezone,
    release,
    total: tableBy(release)?.rows[0] ?? null,
    byGroup,
    byService,
    byArea,
    totalByPeriod: tableBy(release, period)?.rows ?? [],
    groupByPeriod: tableBy(release, 'service_group', period)?.rows ?? [],
    areaByPeriod: tableBy(release, 'area', period)?.rows ?? [],
    targetOfGroup,
    targetOfService,
    findings: [...trendsAll.findings, ...trendsGroups.findings],
    polygons,
    areaNames: byArea.map((r) => r.area!).filter((a) => !a.startsWith('(')),
    missing,
  };
}

export interface MethodologyView {
  release: PublicKpisResult;
  sources: DataSources;
}

export async function methodologyView(wh: Warehouse, o: PublicSiteOptions): Promise<MethodologyView> {
  const release = await publicKpis(wh, [], { period: o.period ?? 'month', policy: o.policy, timezone: o.jurisdiction.timezone });
  return { release, sources: await dataSources(wh) };
}
