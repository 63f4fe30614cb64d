// Mapping profiles: how one source's columns become our fields. The format is documented in
// ingest/README.md so a city with an unknown export can write its own.
import Type from 'typebox';
import Value from 'typebox/value';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const Column = Type.String({ minLength: 1 });

export const CaseColumns = Type.Object(
  {
    case_id: Column,
    opened_at: Column,
    closed_at: Type.Optional(Column),
    expected_at: Type.Optional(Column),
    service_code: Type.Optional(Column),
    service_name: Type.Optional(Column),
    agency: Type.Optional(Column),
    channel: Type.Optional(Column),
    status: Type.Optional(Column),
    lat: Type.Optional(Column),
    lon: Type.Optional(Column),
    area_name: Type.Optional(Column),
  },
  { additionalProperties: false },
);

export const Profile = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    kind: Type.Literal('cases'),
    /** Prefix of every case id from this source, so ids never collide across cities/systems. */
    source: Type.String({ pattern: '^[a-z0-9_-]+$' }),
    format: Type.Literal('csv'),
    csv: Type.Optional(
      Type.Object({ delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })) }, { additionalProperties: false }),
    ),
    /** IANA zone of timestamps that carry no offset. */
    timezone: Type.String({ minLength: 1 }),
    /** strptime format (DuckDB); omitted = ISO 8601, with or without offset. */
    timestamp_format: Type.Optional(Type.String({ minLength: 1 })),
    columns: CaseColumns,
    /** Source value → our value, e.g. {"channel": {"Call": "phone"}, "status": {"Closed": "closed"}}. */
    values: Type.Optional(
      Type.Object(
        {
          channel: Type.Optional(Type.Record(Type.String(), Type.String())),
          status: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('cancelled')]))),
        },
        { additionalProperties: false },
      ),
    ),
    /** Source columns kept verbatim in `attributes`. Everything not mapped or kept is never stored. */
    keep: Type.Optional(Type.Array(Column)),
  },
  { additionalProperties: false },
);
export type Profile = Type.Static<typeof Profile>;
export type CaseField = keyof Type.Static<typeof CaseColumns>;

export class ProfileError extends Error {
  constructor(where: string, problems: string[]) {
    super(`Invalid mapping profile ${where}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ProfileError';
  }
}

export function parseProfile(value: unknown, where = '(inline)'): Profile {
  if (!Value.Check(Profile, value)) {
    const problems = Value.Errors(Profile, value)
      .filter((e) => e.keyword !== 'boolean')
      .map((e) => `${e.instancePath || '/'}: ${e.message}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''}`);
    throw new ProfileError(where, problems);
  }
  return value;
}

const BUILT_IN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'profiles');

/** A built-in profile name (e.g. `myla311`) or a path to a JSON file. */
export function loadProfile(nameOrPath: string): Profile {
  const builtIn = join(BUILT_IN_DIR, `${nameOrPath}.json`);
  const path = existsSync(builtIn) ? builtIn : nameOrPath;
  if (!existsSync(path)) throw new ProfileError(nameOrPath, [`no built-in profile of that name and no such file`]);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProfileError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseProfile(json, path);
}
