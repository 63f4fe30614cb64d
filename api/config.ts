// One configuration: civic.config.json (optional) overlaid by environment variables, validated
// at start. A bad value stops the start with a message naming the key.
import Type from 'typebox';
import Value from 'typebox/value';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import cron from 'node-cron';
import { CivicError } from '../warehouse/errors.ts';
import { isValidTimeZone } from '../ingest/time-zone.ts';

export const Config = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    database: Type.String({ minLength: 1, default: './data/civic.duckdb' }),
    /** DuckDB's memory cap, e.g. "2GB"; null = DuckDB's default (80% of RAM). Beyond it, work spills to disk. */
    memory_limit: Type.Union([Type.String({ pattern: '^\\d+(\\.\\d+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$' }), Type.Null()], { default: null }),
    /** The jurisdiction's name; null = from the data (recorded by the first real ingest, see warehouse/analytics/jurisdiction.ts). */
    jurisdiction: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    /** IANA zone days, weeks and months are cut in; null = from the data (the first real ingest's profile or --timezone). */
    timezone: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    seed_demo_when_empty: Type.Boolean({ default: true }),
    ingest: Type.Object(
      {
        max_upload_mb: Type.Integer({ minimum: 1, default: 1024 }),
        /** Folder the server watches: <inbox>/<profile>/<file> is loaded, then moved to done/ or failed/. */
        inbox_dir: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: './data/inbox' }),
        inbox_poll_seconds: Type.Number({ minimum: 0.1, default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    reports: Type.Object(
      {
        out_dir: Type.String({ minLength: 1, default: './data/reports' }),
        schedules: Type.Array(
          Type.Object({ report: Type.String({ minLength: 1 }), cron: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
          { default: [{ report: 'weekly-summary', cron: '0 7 * * 1' }] },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type Config = Type.Static<typeof Config>;

export class ConfigError extends CivicError {}

const ENV: Record<string, (c: Record<string, unknown>, v: string) => void> = {
  PORT: (c, v) => (c.port = Number(v)),
  CIVIC_PORT: (c, v) => (c.port = Number(v)),
  CIVIC_HOST: (c, v) => (c.host = v),
  CIVIC_DATABASE: (c, v) => (c.database = v),
  CIVIC_MEMORY_LIMIT: (c, v) => (c.memory_limit = v),
  CIVIC_TIMEZONE: (c, v) => (c.timezone = v),
  CIVIC_JURISDICTION: (c, v) => (c.jurisdiction = v),
  CIVIC_SEED_DEMO: (c, v) => (c.seed_demo_when_empty = v === '1' || v === 'true'),
  CIVIC_REPORTS_DIR: (c, v) => ((c.reports = { ...(c.reports as object), out_dir: v })),
  CIVIC_INBOX_DIR: (c, v) => ((c.ingest = { ...(c.ingest as object), inbox_dir: v })),
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const file = resolve(cwd, env.CIVIC_CONFIG ?? 'civic.config.json');
  let raw: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
  } else if (env.CIVIC_CONFIG) {
    throw new ConfigError(`CIVIC_CONFIG names ${file}, which does not exist`);
  }
  for (const [key, apply] of Object.entries(ENV)) if (env[key] !== undefined && env[key] !== '') apply(raw, env[key]!);
  return parseConfig(raw, cwd);
}

export function parseConfig(raw: unknown, cwd = process.cwd()): Config {
  const withDefaults = Value.Default(Config, structuredClone(raw ?? {}));
  if (!Value.Check(Config, withDefaults)) {
    const e = Value.Errors(Config, withDefaults).find((x) => x.keyword !== 'boolean')!;
    const key = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
    const detail = e.keyword === 'additionalProperties' ? `unknown key(s) ${JSON.stringify(e.params)}` : e.message;
    throw new ConfigError(`Configuration key "${key}": ${detail}`);
  }
  const config = withDefaults as Config;
  if (config.timezone !== null && !isValidTimeZone(config.timezone)) throw new ConfigError(`Configuration key "timezone": "${config.timezone}" is not an IANA time zone (e.g. America/New_York)`);
  config.reports.schedules.forEach((s, i) => {
    if (!cron.validate(s.cron)) throw new ConfigError(`Configuration key "reports.schedules.${i}.cron": "${s.cron}" is not a cron expression`);
  });
  if (config.database !== ':memory:') config.database = resolve(cwd, config.database);
  config.reports.out_dir = resolve(cwd, config.reports.out_dir);
  if (config.ingest.inbox_dir) config.ingest.inbox_dir = resolve(cwd, config.ingest.inbox_dir);
  return config;
}
