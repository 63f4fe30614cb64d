// Mapping profiles: how one source's columns become our fields. The format is documented in
// ingest/README.md so a city with an unknown export can write its own.
import Type from 'typebox';
import { CivicError } from '../warehouse/errors.ts';
import Value from 'typebox/value';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_TYPES, KINDS, KIND_NAMES, type Kind } from './kinds.ts';
import { isValidTimeZone } from './time-zone.ts';

const Column = Type.String({ minLength: 1 });
const EventTypeSchema = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)));
export const FORMATS = ['csv', 'ndjson', 'json', 'xml', 'arrow'] as const;
export type SourceFormat = (typeof FORMATS)[number];

export const Profile = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    kind: Type.Union(KIND_NAMES.map((k) => Type.Literal(k))),
    /** Prefix of every id from this source, so ids never collide across cities/systems. */
    source: Type.String({ pattern: '^[a-z0-9_-]+$' }),
    /** Omitted: from the file name (.csv .tsv .txt / .ndjson .jsonl / .json / .xml / .arrow .arrows .ipc). */
    format: Type.Optional(Type.Union(FORMATS.map((f) => Type.Literal(f)))),
    csv: Type.Optional(
      Type.Object(
        {
          delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
          /** The quote character; `"` when omitted. */
          quote: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
          /** The character that escapes a quote inside a quoted field; the quote itself (`""`) when omitted. */
          escape: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    xml: Type.Optional(Type.Object({ record: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
    /** IANA zone of timestamps that carry no offset. */
    timezone: Type.String({ minLength: 1 }),
    /** The jurisdiction whose data this is ("City of Los Angeles"): recorded by the first real ingest. */
    jurisdiction: Type.Optional(Type.String({ minLength: 1 })),
    /** strptime format (DuckDB); omitted = ISO 8601, with or without offset. */
    timestamp_format: Type.Optional(Type.String({ minLength: 1 })),
    /** Our field → the source column, or a list of columns: the first one with a value wins. */
    columns: Type.Record(Type.String(), Type.Union([Column, Type.Array(Column, { minItems: 1 })])),
    /** Source value → our value, per field, e.g. {"channel": {"Call": "phone"}, "status": {"Closed": "closed"}}. */
    values: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String(), Type.String()))),
    /** Source columns kept verbatim in `attributes`. Everything not mapped or kept is never stored. */
    keep: Type.Optional(Type.Array(Column)),
    /** cases: the closed time counts only when the status says closed or cancelled (Open311's updated_datetime). */
    closed_requires_status: Type.Optional(Type.Boolean()),
    /** cases: a nested event trail (Open311 notes[]) → case events. */
    trail: Type.Optional(
      Type.Object(
        {
          from: Column,
          occurred_at: Column,
          type: Column,
          types: Type.Record(Type.String(), EventTypeSchema),
          other_types: Type.Optional(EventTypeSchema),
        },
        { additionalProperties: false },
      ),
    ),
    /** [min lon, min lat, max lon, max lat] of the jurisdiction: points outside are not kept. */
    bounds: Type.Optional(Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()])),
    /** Known fallback geocodes (e.g. city hall) that mean "no real location": [[lat, lon], …]. */
    default_points: Type.Optional(Type.Array(Type.Tuple([Type.Number(), Type.Number()]))),
    /** Reject rows whose service_code is not in the services table. */
    strict_services: Type.Optional(Type.Boolean()),
    /** The source prefix of case ids referenced by interactions / surveys (default: `source`). */
    case_source: Type.Optional(Type.String({ pattern: '^[a-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
export type Profile = Type.Static<typeof Profile>;

export class ProfileError extends CivicError {
  constructor(where: string, problems: string[]) {
    super(`Invalid mapping profile ${where}:\n  - ${problems.join('\n  - ')}`, { parameter: 'profile' });
  }
}

export function parseProfile(value: unknown, where = '(inline)'): Profile {
  if (!Value.Check(Profile, value)) {
    const problems = Value.Errors(Profile, value)
      .filter((e) => e.keyword !== 'boolean' && e.keyword !== 'anyOf')
      .map((e) => `${e.instancePath || '/'}: ${e.message}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : ''}`);
    throw new ProfileError(where, [...new Set(problems)]);
  }
  const fields = KINDS[value.kind as Kind] as Record<string, { required?: boolean }>;
  const problems: string[] = [];
  for (const f of Object.keys(value.columns)) {
    if (!(f in fields)) problems.push(`/columns/${f}: not a field of kind "${value.kind}" (fields: ${Object.keys(fields).join(', ')})`);
  }
  for (const [f, spec] of Object.entries(fields)) {
    if (spec.required && !(f in value.columns)) problems.push(`/columns: the required field "${f}" is not mapped`);
  }
  if (value.trail && value.kind !== 'cases') problems.push('/trail: only profiles of kind "cases" have an event trail');
  if (!isValidTimeZone(value.timezone)) problems.push(`/timezone: "${value.timezone}" is not an IANA time zone (e.g. America/Chicago)`);
  if (problems.length) throw new ProfileError(where, problems);
  return value;
}

const BUILT_IN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'profiles');

/** A built-in profile name (e.g. `myla311`) or a path to a JSON file. */
export function loadProfile(nameOrPath: string): Profile {
  const builtIn = join(BUILT_IN_DIR, `${nameOrPath}.json`);
  const path = /^[a-z0-9_-]+$/.test(nameOrPath) && existsSync(builtIn) ? builtIn : nameOrPath;
  if (!existsSync(path)) throw new ProfileError(nameOrPath, [`no built-in profile of that name and no such file`]);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProfileError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseProfile(json, path);
}

export function builtInProfiles(): string[] {
  return readdirSync(BUILT_IN_DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
}

/** File name endings each format is recognised by (a compressed CSV is read as DuckDB reads it). */
export const EXTENSIONS: Record<SourceFormat, readonly string[]> = {
  csv: ['.csv', '.tsv', '.txt', '.csv.gz', '.tsv.gz', '.txt.gz'],
  ndjson: ['.ndjson', '.jsonl'],
  json: ['.json'],
  xml: ['.xml'],
  arrow: ['.arrow', '.arrows', '.ipc', '.feather'],
};

/** Endings that say a file is something no profile reads, whatever the profile's format. */
const NOT_DATA: Record<string, string> = {
  ...Object.fromEntries(['.png', '.jpg', '.jpeg', '.gif', '.bmp', '.webp', '.tif', '.tiff', '.heic', '.svg'].map((e) => [e, 'an image'])),
  '.pdf': 'a PDF document',
  ...Object.fromEntries(['.xlsx', '.xlsm', '.xls', '.ods', '.numbers'].map((e) => [e, 'a spreadsheet workbook (save the sheet as "CSV UTF-8" and send that)'])),
  ...Object.fromEntries(['.doc', '.docx', '.odt', '.rtf', '.ppt', '.pptx'].map((e) => [e, 'a document'])),
  ...Object.fromEntries(['.zip', '.7z', '.rar', '.tar', '.tgz', '.bz2', '.xz'].map((e) => [e, 'an archive (unpack it first)'])),
  '.gz': 'gzip-compressed (Civic Pulse reads .csv.gz, .tsv.gz and .txt.gz)',
  '.parquet': 'a Parquet file, which Civic Pulse does not read (convert it to CSV or Arrow)',
  '.geojson': 'a GeoJSON file: area boundaries are loaded with `civic areas`, not ingested',
  ...Object.fromEntries(['.sqlite', '.db', '.duckdb', '.mdb', '.accdb'].map((e) => [e, 'a database file'])),
  ...Object.fromEntries(['.exe', '.dll', '.so', '.dmg', '.msi', '.sh', '.bat'].map((e) => [e, 'a program'])),
  ...Object.fromEntries(['.html', '.htm'].map((e) => [e, 'a web page'])),
};

export class UnknownFormatError extends CivicError {}

const formatLabel = (f: string) => f.toUpperCase();
const formatByName = (name: string): SourceFormat | null => FORMATS.find((f) => EXTENSIONS[f].some((e) => name.endsWith(e))) ?? null;

/**
 * The format a file is read in: the profile's, else the one its name's ending says. Refused with a
 * sentence naming the file: an ending no profile reads (.png, .xlsx…), an ending of another format
 * than the profile's (.json to a CSV profile), and, without a format in the profile, an unknown or
 * missing ending. With a format in the profile, any other name is read in that format (.dat…).
 */
export function formatOf(profile: Profile, file: string): SourceFormat {
  const shown = basename(file);
  const name = shown.toLowerCase();
  const byName = formatByName(name);
  const ext = extname(name);
  const known = FORMATS.flatMap((f) => EXTENSIONS[f]).join(' ');
  if (byName === null && NOT_DATA[ext]) {
    throw new UnknownFormatError(`${shown}: by its name ("${ext}") this is ${NOT_DATA[ext]}, not an export Civic Pulse reads (it reads ${known})`);
  }
  const fixed: SourceFormat | undefined = profile.format;
  if (fixed) {
    // .txt says nothing about what is inside.
    if (byName !== null && byName !== fixed && !/\.txt(\.gz)?$/.test(name)) {
      throw new UnknownFormatError(`${shown}: by its name this is ${formatLabel(byName)}, but profile "${profile.name}" reads ${formatLabel(fixed)}: choose the profile for this file, or rename it if the name is wrong`);
    }
    return fixed;
  }
  if (byName !== null) return byName;
  throw new UnknownFormatError(
    `${shown}: ${ext ? `"${ext}" is not a file type Civic Pulse reads` : 'the name has no extension to tell its format'} ` +
      `(it reads ${known}); name the file after its format, or set "format" in the profile`,
  );
}

/** The source columns a profile reads, in order (mapped, then kept). */
export function sourceColumns(profile: Profile): string[] {
  return [...new Set([...Object.values(profile.columns).flat(), ...(profile.keep ?? [])])];
}
