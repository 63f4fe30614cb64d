// On-time targets per service (issue 11): what share of its judged cases a service means to close
// by their due time. Three places can say it, and the first that does wins:
//   1. the configuration's per-service entry, targets.services.<code or name>.on_time;
//   2. the services table's on_time_target (loaded with the catalogue, migration 011);
//   3. the configuration's default, targets.on_time (0.85 unless configured).
// A group of services (the whole city, an agency, an area) has no target of its own: its target
// is the case-weighted mean of its services' targets, Σ(target_s × judged_s) ÷ Σ judged_s, where
// judged_s is the service's on-time denominator in the group — the rate the group would have if
// every service met its own target exactly. It moves with the mix of services, as the rate does.
// Light to import: api/config.ts reads the default from here before anything opens DuckDB, so
// the warehouse modules are loaded only when targets are computed.
import type { Warehouse } from '../db.ts';

/** The on-time target of a service that has none of its own (a share). */
export const DEFAULT_ON_TIME_TARGET = 0.85;

/** The configuration's `targets` (api/config.ts validates it: every value a share 0–1). */
export interface TargetsConfig {
  on_time: number;
  /** Per service code or name. */
  services?: Record<string, { on_time: number }>;
}

export const DEFAULT_TARGETS: TargetsConfig = { on_time: DEFAULT_ON_TIME_TARGET, services: {} };

export type TargetSource = 'configuration (service)' | 'services table' | 'configuration (default)';

export interface ServiceTarget {
  code: string;
  on_time: number;
  source: TargetSource;
}

export interface OnTimeTargets {
  /** The configured default. */
  default: number;
  /** Every service code the catalogue or the cases know, with its target and where it came from. */
  byCode: Map<string, ServiceTarget>;
  /**
   * The target of a service as the KPI rows label it (its name, else its code). A label shared by
   * several codes with different targets gets their plain mean (no split of its cases by code is
   * at hand); a label with no code (cases without a service code) gets a configured entry under
   * that name, else the default.
   */
  forService(label: string): number;
  /** Configuration keys under targets.services that name no service in the data: a typo, probably. */
  unmatched: string[];
}

/** The target per service code (and per KPI service label), by the precedence above. */
export async function onTimeTargets(wh: Warehouse, config: TargetsConfig = DEFAULT_TARGETS): Promise<OnTimeTargets> {
  const configured = config.services ?? {};
  const fromConfig = (...names: (string | null | undefined)[]) => {
    for (const n of names) if (n != null && Object.hasOwn(configured, n)) return configured[n].on_time;
    return undefined;
  };
  const catalogue = await wh.all<{ code: string; name: string; target: number | null }>(
    `SELECT service_code AS code, name, on_time_target AS target FROM services`,
  );
  // The services the cases use, labelled as the KPI rows label them (listDimensions is cached per data version).
  const { listDimensions } = await import('./dimensions.ts');
  const used = (await listDimensions(wh)).services;
  const byCode = new Map<string, ServiceTarget>();
  const catalogueByCode = new Map(catalogue.map((s) => [s.code, s]));
  const codes = new Set([...catalogue.map((s) => s.code), ...used.flatMap((s) => (s.code ? [s.code] : []))]);
  const labelsOf = new Map<string, string[]>();
  for (const s of used) if (s.code) labelsOf.set(s.code, [...(labelsOf.get(s.code) ?? []), s.name]);
  for (const code of codes) {
    const row = catalogueByCode.get(code);
    const own = fromConfig(code, row?.name, ...(labelsOf.get(code) ?? []));
    if (own !== undefined) byCode.set(code, { code, on_time: own, source: 'configuration (service)' });
    else if (row?.target != null) byCode.set(code, { code, on_time: row.target, source: 'services table' });
    else byCode.set(code, { code, on_time: config.on_time, source: 'configuration (default)' });
  }

  const codesByLabel = new Map<string, string[]>();
  for (const s of used) if (s.code) codesByLabel.set(s.name, [...new Set([...(codesByLabel.get(s.name) ?? []), s.code])]);
  const forService = (label: string): number => {
    const cs = codesByLabel.get(label) ?? (byCode.has(label) ? [label] : []);
    if (cs.length === 0) return fromConfig(label) ?? config.on_time;
    return cs.reduce((sum, c) => sum + byCode.get(c)!.on_time, 0) / cs.length;
  };
  const known = new Set([...codes, ...catalogue.map((s) => s.name), ...used.map((s) => s.name)]);
  return { default: config.on_time, byCode, forService, unmatched: Object.keys(configured).filter((k) => !known.has(k)).sort() };
}

/**
 * The target of a group of services: Σ(target × judged) ÷ Σ judged over its services' rows — the
 * rate the group would have if every service met its own target exactly. null when none of its
 * cases is judged yet (no rate to compare either).
 */
export function weightedTarget(parts: readonly { target: number; judged: number }[]): number | null {
  // One target shared by every part is the group's target exactly (no rounding in the last digit).
  const judged = parts.filter((p) => p.judged > 0);
  if (judged.length > 0 && judged.every((p) => p.target === judged[0].target)) return judged[0].target;
  let num = 0;
  let den = 0;
  for (const p of parts) {
    num += p.target * p.judged;
    den += p.judged;
  }
  return den > 0 ? num / den : null;
}
