// One configuration: civic.config.json (optional) overlaid by environment variables, validated
// at start. A bad value stops the start with a message naming the key.
import Type, { type TSchema } from 'typebox';
import Value from 'typebox/value';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import cron from 'node-cron';
import { CivicError } from '../warehouse/errors.ts';
import { isValidTimeZone } from '../ingest/time-zone.ts';
import { ROLES } from '../warehouse/access/tokens.ts';
import { DEFAULT_ON_TIME_TARGET } from '../warehouse/analytics/targets.ts';
import { DEFAULT_MIN_DENOMINATOR } from '../warehouse/analytics/format.ts';
import { checkDefinition, DefinitionError } from '../reports/report-config.ts';

/**
 * OpenID Connect: bearer JWTs from the city's identity provider, verified against its issuer,
 * audience and signing keys (a JWKS file); one claim gives the role, another the agencies.
 */
export const OidcConfig = Type.Object(
  {
    /** Must equal the tokens' `iss`. */
    issuer: Type.String({ minLength: 1 }),
    /** The tokens' `aud` must name (one of) these. */
    audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
    /** The provider's public keys as a JWKS document ({"keys": […]}), e.g. saved from its jwks_uri. */
    jwks_file: Type.String({ minLength: 1 }),
    /** The claim that names the role (a string or a list; dots reach into objects: realm_access.roles). */
    role_claim: Type.String({ minLength: 1, default: 'roles' }),
    /** Claim value → role; without an entry, a value that is itself a role name (admin, manager, planner, public) is taken as it is. */
    role_map: Type.Record(Type.String(), Type.Enum([...ROLES]), { default: {} }),
    /** The claim that lists the agencies the identity is limited to; absent from a token = every agency. null = no agency scopes from OIDC. */
    agencies_claim: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: 'agencies' }),
    /** The claim shown as the caller's name (falls back to preferred_username, email, then sub). */
    name_claim: Type.String({ minLength: 1, default: 'name' }),
    /** Leeway for clocks that differ, in seconds. */
    clock_tolerance_seconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
  },
  { additionalProperties: false },
);
export type OidcConfig = Type.Static<typeof OidcConfig>;

export const Config = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    database: Type.String({ minLength: 1, default: './data/civic.duckdb' }),
    /** DuckDB's memory cap, e.g. "2GB"; null = a quarter of RAM, 1–8 GiB (warehouse/db.ts defaultMemoryLimit). Beyond it, work spills to disk. */
    memory_limit: Type.Union([Type.String({ pattern: '^\\d+(\\.\\d+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$' }), Type.Null()], { default: null }),
    /** The jurisdiction's name; null = from the data (recorded by the first real ingest, see warehouse/analytics/jurisdiction.ts). */
    jurisdiction: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    /** IANA zone days, weeks and months are cut in; null = from the data (the first real ingest's profile or --timezone). */
    timezone: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    seed_demo_when_empty: Type.Boolean({ default: true }),
    /** Disclosure control of everything public (warehouse/privacy/README.md). */
    disclosure: Type.Object(
      {
        /** Counts of 1..k requests are suppressed, with complementary suppression. */
        k: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
        /** Rates and durations are published only over at least this many cases. */
        min_denominator: Type.Integer({ minimum: 1, maximum: 100_000, default: 20 }),
        /** Services (codes or names) never broken down by area. */
        sensitive_services: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    ingest: Type.Object(
      {
        max_upload_mb: Type.Integer({ minimum: 1, default: 1024 }),
        /** Folder the server watches: <inbox>/<profile>/<file> is loaded, then moved to done/ or failed/. */
        inbox_dir: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: './data/inbox' }),
        inbox_poll_seconds: Type.Number({ minimum: 0.1, default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        /** Signs the dashboard's session cookie (at least 32 characters); null = generated once into <data dir>/.civic-session-secret. */
        session_secret: Type.Union([Type.String({ minLength: 32 }), Type.Null()], { default: null }),
        /** How long a dashboard sign-in lasts (never longer than the token it was made from). */
        session_hours: Type.Number({ exclusiveMinimum: 0, maximum: 720, default: 8 }),
        /** OpenID Connect bearer tokens; null = off. Checked in parseConfig, so its errors name its keys. */
        oidc: Type.Unknown({ default: null }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** What one request may cost the server (api/plugins/security.ts, warehouse/db.ts readers). */
    limits: Type.Object(
      {
        /** DuckDB connections the API reads with (ingest has its own): this many queries run at once. */
        read_connections: Type.Integer({ minimum: 1, maximum: 16, default: 3 }),
        /** A query running longer is interrupted and answered with a 503 that says what to narrow. */
        query_timeout_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 15 }),
        /** Rows one answer may have (e.g. KPI groups); more is a 413 that says what to narrow. */
        max_rows: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 5000 }),
        /** Rows any one query may return to the API (series, curve points…); more is a 413. */
        max_query_rows: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 100_000 }),
        /** Cells (groups × periods) a request may ask for, estimated from the data's dimensions before any query runs; more is a 413. */
        max_cells: Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 250_000 }),
        /** Requests a minute one client address may make to the public API (/api/public/*, /open311/*); more is a 429. */
        public_per_minute: Type.Integer({ minimum: 1, default: 120 }),
        /** The longest URL accepted (path and query, in characters); longer is a 414. */
        max_url_length: Type.Integer({ minimum: 256, maximum: 16_384, default: 4096 }),
        /** The largest JSON (or other non-upload) request body, in KiB; larger is a 413. Uploads: ingest.max_upload_mb. */
        max_body_kb: Type.Integer({ minimum: 1, maximum: 1_048_576, default: 64 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Embeds (/embed/<view>): which sites may show them in a frame. */
    embed: Type.Object(
      {
        /** The Content-Security-Policy frame-ancestors sources for /embed pages: ["*"] = any site; e.g. ["https://www.riverton.gov"]. Every other page is framed only by this server. */
        frame_ancestors: Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: '^(\\*|\'self\'|(https?://)?[A-Za-z0-9*.-]+(:[0-9*]+)?(/[^\\s;,]*)?)$' }), { minItems: 1, default: ['*'] }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Targets the dashboard and reports judge against (warehouse/analytics/targets.ts). */
    targets: Type.Object(
      {
        /** The on-time target of a service that has none of its own: a share 0–1 (0.85 = 85%). */
        on_time: Type.Number({ minimum: 0, maximum: 1, default: DEFAULT_ON_TIME_TARGET }),
        /** Per service (its code or its name): overrides the services table's on_time_target. */
        services: Type.Record(
          Type.String({ minLength: 1 }),
          Type.Object({ on_time: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }),
          { default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Current crews per service (its code or name) and area (its id or name), for the what-if
     * (GET /api/whatif, warehouse/analytics/whatif.ts): { "POTHOLE": { "D2": 4, "D6": 3 } }. Areas
     * not here take crews from the request (crews=D2:4), else are measured in crew-equivalents.
     */
    crews: Type.Record(
      Type.String({ minLength: 1 }),
      Type.Record(Type.String({ minLength: 1 }), Type.Number({ minimum: 0, maximum: 10_000 })),
      { default: {} },
    ),
    /** Alerts on findings (reports/alerts.ts): when subscriptions are evaluated. */
    alerts: Type.Object(
      {
        /** Off: no subscription is evaluated or sent (the API still keeps them). */
        enabled: Type.Boolean({ default: true }),
        /** How often the data version is checked: a batch that lands is evaluated within this. */
        poll_seconds: Type.Number({ minimum: 1, maximum: 3600, default: 60 }),
        /** Evaluated at least this often without a new batch (an anomaly ages out, a failed send is retried sooner). */
        interval_minutes: Type.Number({ minimum: 1, maximum: 1440, default: 60 }),
        /** An anomaly is news while its last day is among the data's last this many days. */
        anomaly_days: Type.Integer({ minimum: 1, maximum: 28, default: 7 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** How staff screens and reports show figures (DESIGN.md "Showing numbers"). */
    display: Type.Object(
      {
        /** A rate or median over fewer cases (judged, closed, answers) reads "too few cases" instead of a figure. */
        min_denominator: Type.Integer({ minimum: 1, maximum: 100_000, default: DEFAULT_MIN_DENOMINATOR }),
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
        /** Report definitions (reports/report-config.ts): checked in parseConfig, so errors name the key inside. Read-only through the API. */
        definitions: Type.Array(Type.Unknown(), { default: [] }),
        /** The mail server reports and failure notices go out through; null = no e-mail. */
        smtp: Type.Union(
          [
            Type.Object(
              {
                host: Type.String({ minLength: 1 }),
                port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
                /** TLS from the start (port 465); false = STARTTLS when the server offers it. */
                secure: Type.Boolean({ default: false }),
                user: Type.Optional(Type.String({ minLength: 1 })),
                /** Better in the environment: CIVIC_SMTP_PASS. */
                pass: Type.Optional(Type.String()),
                /** The From header, e.g. "Civic Pulse <reports@city.gov>". */
                from: Type.String({ minLength: 3 }),
              },
              { additionalProperties: false },
            ),
            Type.Null(),
          ],
          { default: null },
        ),
        /** This server's address as report recipients reach it (links to files too large to attach, and in webhooks); null = no links. */
        public_url: Type.Union([Type.String({ pattern: '^https?://[^\\s]+$' }), Type.Null()], { default: null }),
        /** Signs webhook deliveries (HMAC-SHA256); better in the environment: CIVIC_WEBHOOK_SECRET. */
        webhook_secret: Type.Union([Type.String({ minLength: 16 }), Type.Null()], { default: null }),
        /** How long a download link in an e-mail or webhook works, in hours. */
        link_hours: Type.Number({ exclusiveMinimum: 0, maximum: 2160, default: 168 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type Config = Omit<Type.Static<typeof Config>, 'auth'> & { auth: Omit<Type.Static<typeof Config>['auth'], 'oidc'> & { oidc: OidcConfig | null } };

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
  // Only beside a configured reports.smtp (a password alone is no mail server).
  CIVIC_SMTP_PASS: (c, v) => {
    const r = c.reports as { smtp?: Record<string, unknown> | null } | undefined;
    if (r?.smtp && typeof r.smtp === 'object') c.reports = { ...r, smtp: { ...r.smtp, pass: v } };
  },
  CIVIC_WEBHOOK_SECRET: (c, v) => ((c.reports = { ...(c.reports as object), webhook_secret: v })),
  CIVIC_PUBLIC_URL: (c, v) => ((c.reports = { ...(c.reports as object), public_url: v })),
  CIVIC_INBOX_DIR: (c, v) => ((c.ingest = { ...(c.ingest as object), inbox_dir: v })),
  CIVIC_SESSION_SECRET: (c, v) => ((c.auth = { ...(c.auth as object), session_secret: v })),
  CIVIC_SESSION_HOURS: (c, v) => ((c.auth = { ...(c.auth as object), session_hours: Number(v) })),
  CIVIC_OIDC_ISSUER: (c, v) => oidcEnv(c, 'issuer', v),
  CIVIC_OIDC_AUDIENCE: (c, v) => oidcEnv(c, 'audience', v),
  CIVIC_OIDC_JWKS_FILE: (c, v) => oidcEnv(c, 'jwks_file', v),
};

function oidcEnv(c: Record<string, unknown>, key: string, v: string) {
  const auth = { ...(c.auth as Record<string, unknown> | undefined) };
  auth.oidc = { ...(auth.oidc as object | null | undefined), [key]: v };
  c.auth = auth;
}

/** The first error of `schema` for `value`, as "Configuration key "<prefix>.<key>": <why>". */
function schemaError(schema: TSchema, value: unknown, prefix: string): ConfigError {
  const e = Value.Errors(schema, value).find((x) => x.keyword !== 'boolean')!;
  const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const key = [prefix, path].filter(Boolean).join('.') || '(top level)';
  const detail = e.keyword === 'additionalProperties' ? `unknown key(s) ${JSON.stringify(e.params)}` : e.message;
  return new ConfigError(`Configuration key "${key}": ${detail}`);
}

/** auth.oidc checked on its own, so an error names the key inside it; the JWKS file must be there and hold keys. */
function parseOidc(raw: unknown, cwd: string): OidcConfig | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('Configuration key "auth.oidc": must be an object ({ issuer, audience, jwks_file, … }) or null');
  const oidc = Value.Default(OidcConfig, structuredClone(raw)) as OidcConfig;
  if (!Value.Check(OidcConfig, oidc)) throw schemaError(OidcConfig, oidc, 'auth.oidc');
  oidc.jwks_file = resolve(cwd, oidc.jwks_file);
  let jwks: { keys?: unknown };
  try {
    jwks = JSON.parse(readFileSync(oidc.jwks_file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code ? `cannot be read (${code})` : `is not JSON (${(err as Error).message})`;
    throw new ConfigError(`Configuration key "auth.oidc.jwks_file": ${oidc.jwks_file} ${why}`);
  }
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw new ConfigError(`Configuration key "auth.oidc.jwks_file": ${oidc.jwks_file} is not a JWKS document with keys ({"keys": [ … ]}, as the provider's jwks_uri serves it)`);
  }
  return oidc;
}

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

/**
 * Targets are shares: 85 (meaning 85%) would otherwise fail as "must be <= 1", which does not say
 * what to write instead.
 */
function checkTargetShares(raw: unknown): void {
  const targets = (raw as { targets?: { on_time?: unknown; services?: Record<string, { on_time?: unknown } | unknown> } } | null)?.targets;
  if (!targets || typeof targets !== 'object') return;
  const check = (key: string, v: unknown) => {
    if (typeof v === 'number' && (v > 1 || v < 0)) {
      throw new ConfigError(`Configuration key "${key}": ${v} is not a share from 0 to 1${v > 1 && v <= 100 ? ` (for ${v}% write ${v / 100})` : ''}`);
    }
  };
  check('targets.on_time', targets.on_time);
  if (targets.services && typeof targets.services === 'object') {
    for (const [name, t] of Object.entries(targets.services)) check(`targets.services.${name}.on_time`, (t as { on_time?: unknown } | null)?.on_time);
  }
}

export function parseConfig(raw: unknown, cwd = process.cwd()): Config {
  checkTargetShares(raw);
  const withDefaults = Value.Default(Config, structuredClone(raw ?? {}));
  if (!Value.Check(Config, withDefaults)) throw schemaError(Config, withDefaults, '');
  const config = withDefaults as Config;
  config.auth.oidc = parseOidc(config.auth.oidc, cwd);
  if (config.timezone !== null && !isValidTimeZone(config.timezone)) throw new ConfigError(`Configuration key "timezone": "${config.timezone}" is not an IANA time zone (e.g. America/New_York)`);
  config.reports.schedules.forEach((s, i) => {
    if (!cron.validate(s.cron)) throw new ConfigError(`Configuration key "reports.schedules.${i}.cron": "${s.cron}" is not a cron expression`);
  });
  config.reports.out_dir = resolve(cwd, config.reports.out_dir);
  const reportChecks = { outDir: config.reports.out_dir, isValidTimeZone, smtp: config.reports.smtp !== null, webhookSecret: config.reports.webhook_secret !== null };
  const reportIds = new Set<string>();
  config.reports.definitions = config.reports.definitions.map((d, i) => {
    try {
      const def = checkDefinition(d, `reports.definitions.${i}`, reportChecks, 'config');
      if (reportIds.has(def.id)) throw new DefinitionError(`reports.definitions.${i}.id`, `"${def.id}" is used by another definition`);
      reportIds.add(def.id);
      return def;
    } catch (err) {
      if (err instanceof DefinitionError) throw new ConfigError(`Configuration key "${err.key}": ${err.message.slice(err.key.length + 2)}`);
      throw err;
    }
  });
  if (config.database !== ':memory:') config.database = resolve(cwd, config.database);
  if (config.ingest.inbox_dir) config.ingest.inbox_dir = resolve(cwd, config.ingest.inbox_dir);
  return config;
}
