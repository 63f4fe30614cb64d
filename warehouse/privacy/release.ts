// A public release: one cube of counts (every margin included) over fixed axes, protected once,
// from which every public table is a slice. Because all tables a route returns — and all the
// routes that read the same release — show cells of the one protected cube, no combination of
// them gives an attacker an equation the protection did not account for.
//
// Pure: the caller (warehouse/analytics/public-kpis.ts) reads the data; this builds, protects,
// verifies (and refuses to publish if the verification finds anything) and slices.
import { Cube, type Axis } from './cube.ts';
import { PUBLISHED, protectAsync, verifyProtection, type Protection } from './suppress.ts';
import { nextTurn } from '../turns.ts';

/** Records summed per turn of the event loop: a few milliseconds' work. */
const RECORDS_PER_TURN = 2_000;

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
  // Every field's cells summed as Cube.aggregate sums them (record by record, in order), each
  // record checked and its cells found once, a slice of records per turn of the event loop: a
  // large city's release (thousands of services × areas × periods) is built on the server after
  // every batch, and finding each record's cells again for every field took seconds in one go.
  const fields = [...new Set([input.countField, ...input.fields])];
  const values: Record<string, Float64Array> = Object.fromEntries(fields.map((f) => [f, new Float64Array(cube.size)]));
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % RECORDS_PER_TURN === 0) await nextTurn();
    const r = records[i];
    for (const f of input.fields) {
      const v = r.fields[f] ?? 0;
      if (!Number.isFinite(v) || v < 0) throw new DisclosureError(`release: ${f} = ${v} is not a count`);
    }
    let cells: number[] | null = null;
    for (const f of fields) {
      const value = r.fields[f] ?? 0;
      if (value === 0) continue;
      cells ??= cube.cellsOf(r.leaves);
      const v = values[f];
      for (const c of cells) v[c] += value;
    }
  }
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
