// The disclosure rules for everything public, in one place (README.md explains each): the
// threshold k, the minimum denominator of a rate or duration, the services never broken down by
// area, the coarsest time and place the public gets, and how a withheld figure is shown.

export interface DisclosurePolicy {
  /** Counts 1..k are suppressed; every suppressed count's feasible range is at least k wide. */
  k: number;
  /** A rate or a duration is published only over at least this many cases. */
  min_denominator: number;
  /** Services (names or codes) never broken down by area. */
  sensitive_services: readonly string[];
}

export const DEFAULT_POLICY: DisclosurePolicy = { k: 10, min_denominator: 20, sensitive_services: [] };

/** Time the public gets: nothing finer than a day, and tables by week or by month. */
export const PUBLIC_PERIODS = ['week', 'month'] as const;
export type PublicPeriod = (typeof PUBLIC_PERIODS)[number];

/** Locations the public gets: areas, or H3 cells of this resolution or coarser (about 5 km²). */
export const MAX_PUBLIC_H3_RESOLUTION = 7;

/** The H3 resolution a public map may use: a finer one is generalised to resolution 7. */
export function publicH3Resolution(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) throw new Error(`H3 resolution must be a whole number ≥ 0 (got ${requested})`);
  return Math.min(requested, MAX_PUBLIC_H3_RESOLUTION);
}

/** Why a figure is not shown. Every row carries these per measure; footnotes explain each once. */
export type Flag = 'suppressed' | 'too_few_cases' | 'not_reached' | 'not_available';

export function footnotes(policy: DisclosurePolicy, sensitive: readonly string[]): Record<Flag | 'area_not_published', string> {
  return {
    suppressed:
      `Suppressed to protect privacy: counts of 1 to ${policy.k} requests are not published, and some larger counts are withheld too, ` +
      `so that no withheld count can be worked out from the totals. A suppressed figure is not zero.`,
    too_few_cases: `Too few cases: rates and durations are published only over at least ${policy.min_denominator} cases.`,
    not_reached: 'Not reached: more than half of these requests were still open, so the median time to close is not known yet.',
    not_available: `Not available: this figure would mix in requests of services that are not broken down by area.`,
    area_not_published:
      sensitive.length === 0
        ? 'No service is left out of the public figures.'
        : `${sensitive.join(', ')}: requests of ${sensitive.length === 1 ? 'this service are' : 'these services are'} not published at all — ` +
          `not in any table, total, trend or the Open311 API — so every figure here counts the other services only.`,
  };
}

/** The rules as sentences, for the response and the methodology page. */
export function rulesText(policy: DisclosurePolicy): string[] {
  return [
    `Counts of 1 to ${policy.k} requests are suppressed (shown as null, marked "suppressed"), never shown as 0.`,
    `Complementary suppression: further cells are withheld so that every suppressed count, given every published cell and total of the release, could still be any value in a range at least ${policy.k} wide.`,
    `Rates and durations are published only over at least ${policy.min_denominator} cases, and only where the count is published; rates are rounded to whole percentages, durations to a tenth of an hour.`,
    `Locations are areas of one kind; services marked sensitive are left out of every public figure, totals included.`,
    `Time is by week or month, whole periods only; nothing finer than a day is published.`,
  ];
}

/** A share rounded to a whole percentage (as a fraction, e.g. 0.83), so counts cannot be worked back from it. */
export const roundShare = (x: number) => Math.round(x * 100) / 100;
/** Hours to a tenth. */
export const roundHours = (x: number) => Math.round(x * 10) / 10;

/** Matches configured sensitive services against the data's services by code or name (case and spacing ignored). */
export function sensitiveServiceNames(policy: DisclosurePolicy, services: readonly { code: string | null; name: string }[]): Set<string> {
  const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();
  const wanted = new Set(policy.sensitive_services.map(norm));
  return new Set(services.filter((s) => wanted.has(norm(s.name)) || (s.code !== null && wanted.has(norm(s.code)))).map((s) => s.name));
}
