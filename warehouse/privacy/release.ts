// A public release: one cube of counts (every margin included) over fixed axes, protected once,
// from which every public table is a slice. Because all tables a route returns — and all the
// routes that read the same release — show cells of the one protected cube, no combination of
// them gives an attacker an equation the protection did not account for.
//
// Pure: the caller (warehouse/analytics/public-kpis.ts) reads the data; this builds, protects,
// verifies (and refuses to publish if the verification finds anything) and slices.
import { Cube, type Axis } from './cube.ts';
import { PUBLISHED, protectAsync, verifyProtection, type Protection } from './suppress.ts';

export interface LeafRecord {
  /** Per axis, the leaf the record falls in — or its leaves, one per partition family of the root (a request is in one service and one area). */
  leaves: (number | readonly number[])[];
  /** Additive fields (counts) of this record: the published count and whatever rates are built from. */
  fields: Record<string, number>;
}

export interface ReleaseInput {
  axes: Axis[];
  records: Iterable<LeafRecord>;
  /** The field that is published as a count, and protected. */
  countField: string;
  /** Every additive field to carry (countField included). */
  fields: readonly string[];
  k: number;
}

export interface Release {
  cube: Cube;
  /** Each field's value in every cell (margins included). */
  values: Record<string, Float64Array>;
  countField: string;
  protection: Protection;
}

export class DisclosureError extends Error {}

/** Builds and protects a release, giving the event loop a turn every few milliseconds while it protects. */
export async function buildRelease(input: ReleaseInput): Promise<Release> {
  const cube = new Cube(input.axes);
  const records = [...input.records];
  for (const r of records) {
    for (const f of input.fields) {
      const v = r.fields[f] ?? 0;
      if (!Number.isFinite(v) || v < 0) throw new DisclosureError(`release: ${f} = ${v} is not a count`);
    }
  }
  const values: Record<string, Float64Array> = {};
  for (const f of new Set([input.countField, ...input.fields])) values[f] = cube.aggregate(records.map((r) => [r.leaves, r.fields[f] ?? 0]));
  const count = values[input.countField];
  const broken = cube.checkAdditive(count);
  if (broken) throw new DisclosureError(`release: ${JSON.stringify(cube.describe(broken.total))} is not the sum of its parts`);
  const protection = await protectAsync(cube, count, { k: input.k });
  // Fail closed: a table that does not verify is never published.
  const problems = verifyProtection(cube, count, protection);
  if (problems.length > 0) throw new DisclosureError(`release failed its disclosure check: ${problems.slice(0, 3).join('; ')}`);
  return { cube, values, countField: input.countField, protection };
}

/** The cells of a slice: the product of the given nodes of each axis, in that order. */
export function sliceCells(release: Release, nodes: readonly (readonly number[])[]): number[] {
  const { cube } = release;
  const out: number[] = [];
  const walk = (a: number, base: number) => {
    if (a === nodes.length) out.push(base);
    else for (const n of nodes[a]) walk(a + 1, base + n * cube.strides[a]);
  };
  walk(0, 0);
  return out;
}

export const isSuppressed = (release: Release, cell: number) => release.protection.state[cell] !== PUBLISHED;
