// Report definitions as configuration: the shape (TypeBox, shared by civic.config.json's
// `reports.definitions` and the API's body), the checks that name the key at fault, and the one
// list the scheduler, API and CLI work from — the configuration's definitions (read-only), the
// legacy `reports.schedules` mapped onto definitions, and those stored through the API.
//
// Light on purpose: api/config.ts imports this at every start, so nothing heavy (the report
// builders, vega) is imported here at run time.
import Type from 'typebox';
import Value from 'typebox/value';
import cron from 'node-cron';
import type { ReportSpec, ReportView } from './definitions.ts';
import type { CaseFilter } from '../warehouse/queries/case-predicates.ts';

// The views of definitions.ts (type-checked against ReportView both ways, so neither can drift).
const VIEWS = ['summary', 'services', 'areas', 'methodology'] as const satisfies readonly ReportView[];
type _AllViews = ReportView extends (typeof VIEWS)[number] ? true : never;
const _allViews: _AllViews = true;
void _allViews;

export const REPORT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/;

export const ReportDefinitionSchema = Type.Object(
  {
    /** Lower case letters, digits and dashes; names the files and the API's paths. */
    id: Type.String({ pattern: REPORT_ID_PATTERN, description: 'lower-case letters, digits and dashes, e.g. "district-9-weekly"' }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    views: Type.Array(Type.Enum([...VIEWS]), { minItems: 1, uniqueItems: true, default: ['summary', 'services', 'methodology'] }),
    /** The cases the report is about (one report per district: { "area": "District 9" }). */
    filter: Type.Object(
      {
        service: Type.Optional(Type.String({ minLength: 1 })),
        service_group: Type.Optional(Type.String({ minLength: 1 })),
        agency: Type.Optional(Type.String({ minLength: 1 })),
        channel: Type.Optional(Type.String({ minLength: 1 })),
        area: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    area_kind: Type.Optional(Type.String({ minLength: 1 })),
    period: Type.Union([Type.Literal('week'), Type.Literal('month')], { default: 'week' }),
    formats: Type.Array(Type.Union([Type.Literal('pdf'), Type.Literal('csv')]), { minItems: 1, uniqueItems: true, default: ['pdf', 'csv'] }),
    /** Five fields (minute hour day month weekday) or six (with seconds first), read in `timezone`. */
    cron: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description: 'null: on demand only' }),
    /** The report's own IANA zone (its schedule, dates and page footers); null = the jurisdiction's. */
    timezone: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    /** E-mail addresses, http(s) webhook URLs, and "folder" (reports.out_dir) or "folder:<path>". */
    recipients: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { default: ['folder'], maxItems: 200 }),
    audience: Type.Union([Type.Literal('staff'), Type.Literal('public')], { default: 'staff' }),
    /** Told by e-mail when a run fails; null = nobody (the failure is still logged as an error and recorded). */
    owner: Type.Union([Type.String({ minLength: 3 }), Type.Null()], { default: null }),
    /** The agencies the report may see; null = every agency. */
    agencies: Type.Union([Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), Type.Null()], { default: null }),
    enabled: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export type ReportDefinitionInput = Type.Static<typeof ReportDefinitionSchema>;

export type RecipientKind = 'folder' | 'email' | 'webhook';
export interface Recipient { kind: RecipientKind; /** as written */ raw: string; /** email address, URL, or the folder's path */ target: string }

/** A definition ready to run: where it came from and its recipients parsed. */
export interface ReportDefinitionFull extends ReportDefinitionInput {
  source: 'config' | 'api' | 'built-in';
  parsed_recipients: Recipient[];
}

export class DefinitionError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'DefinitionError';
  }
}

/** What a recipient string is; throws a DefinitionError naming `key`. */
export function parseRecipient(raw: string, key: string, outDir: string): Recipient {
  const s = raw.trim();
  if (s === 'folder') return { kind: 'folder', raw, target: outDir };
  if (s.startsWith('folder:')) {
    const path = s.slice('folder:'.length).trim();
    if (!path) throw new DefinitionError(key, `"${raw}" names no folder (write "folder" for reports.out_dir, or "folder:/path")`);
    return { kind: 'folder', raw, target: path };
  }
  if (/^https?:\/\//i.test(s)) {
    try {
      const u = new URL(s);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
      return { kind: 'webhook', raw, target: s };
    } catch {
      throw new DefinitionError(key, `"${raw}" is not a valid URL`);
    }
  }
  if (s.startsWith('mailto:')) return parseRecipient(s.slice(7), key, outDir);
  if (EMAIL.test(s)) return { kind: 'email', raw, target: s };
  throw new DefinitionError(key, `"${raw}" is neither an e-mail address, an http(s) webhook URL, nor "folder" / "folder:<path>"`);
}

export interface DefinitionChecks {
  outDir: string;
  isValidTimeZone: (tz: string) => boolean;
  /** SMTP configured: e-mail recipients and owners can be served. */
  smtp: boolean;
  /** A webhook secret configured: webhooks can be signed. */
  webhookSecret: boolean;
}

/**
 * Defaults applied and every rule checked; errors name `prefix`.<key> (e.g.
 * `reports.definitions.2.recipients.1`, or `body.cron` from the API).
 */
export function checkDefinition(raw: unknown, prefix: string, checks: DefinitionChecks, source: ReportDefinitionFull['source']): ReportDefinitionFull {
  const def = Value.Default(ReportDefinitionSchema, structuredClone(raw ?? {})) as ReportDefinitionInput;
  if (!Value.Check(ReportDefinitionSchema, def)) {
    const e = Value.Errors(ReportDefinitionSchema, def).find((x) => x.keyword !== 'boolean' && x.keyword !== 'anyOf') ?? Value.Errors(ReportDefinitionSchema, def)[0];
    const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const detail = e.keyword === 'additionalProperties' ? `unknown key(s) ${JSON.stringify(e.params)}` : e.message;
    throw new DefinitionError([prefix, path].filter(Boolean).join('.'), detail);
  }
  if (def.cron !== null && !cron.validate(def.cron)) throw new DefinitionError(`${prefix}.cron`, `"${def.cron}" is not a cron expression (minute hour day-of-month month day-of-week, e.g. "0 7 * * 1" for Mondays at 07:00)`);
  if (def.timezone !== null && !checks.isValidTimeZone(def.timezone)) throw new DefinitionError(`${prefix}.timezone`, `"${def.timezone}" is not an IANA time zone (e.g. America/New_York)`);
  const parsed = def.recipients.map((r, i) => parseRecipient(r, `${prefix}.recipients.${i}`, checks.outDir));
  const seen = new Set<string>();
  parsed.forEach((r, i) => {
    const k = `${r.kind}:${r.target.toLowerCase()}`;
    if (seen.has(k)) throw new DefinitionError(`${prefix}.recipients.${i}`, `"${r.raw}" is listed twice`);
    seen.add(k);
    if (r.kind === 'email' && !checks.smtp) throw new DefinitionError(`${prefix}.recipients.${i}`, `"${r.raw}" is an e-mail address, and reports.smtp is not configured`);
    // A folder of its own is the configuration's to name: through the API a report writes only into reports.out_dir.
    if (r.kind === 'folder' && source === 'api' && r.raw.trim() !== 'folder') throw new DefinitionError(`${prefix}.recipients.${i}`, `"${r.raw}": a report made through the API writes only into reports.out_dir ("folder"); other folders are set in the configuration`);
    if (r.kind === 'webhook' && !checks.webhookSecret) throw new DefinitionError(`${prefix}.recipients.${i}`, `"${r.raw}" is a webhook, and reports.webhook_secret (or CIVIC_WEBHOOK_SECRET) is not set to sign it`);
  });
  if (def.owner !== null) {
    if (!EMAIL.test(def.owner)) throw new DefinitionError(`${prefix}.owner`, `"${def.owner}" is not an e-mail address`);
    if (!checks.smtp) throw new DefinitionError(`${prefix}.owner`, 'an owner is told of failures by e-mail, and reports.smtp is not configured');
  }
  if (def.audience === 'public' && def.agencies !== null) throw new DefinitionError(`${prefix}.agencies`, 'a public report covers every agency (its figures pass disclosure control); leave agencies null or make the audience staff');
  // A public report is a slice of the one published release: no filter (it could be subtracted from
  // the published tables), and the release's own days and areas (another zone cuts days at other
  // hours, another area kind overlaps: either would make a second, differently cut release).
  if (def.audience === 'public') {
    const given = Object.keys(def.filter).find((k) => (def.filter as Record<string, unknown>)[k] !== undefined);
    if (given) throw new DefinitionError(`${prefix}.filter.${given}`, 'a public report cannot be filtered (a filtered public table could be subtracted from the published ones); remove the filter or make the audience staff');
    if (def.timezone !== null) throw new DefinitionError(`${prefix}.timezone`, "a public report is cut in the jurisdiction's zone, as the published release is; leave timezone null");
    if (def.area_kind !== undefined) throw new DefinitionError(`${prefix}.area_kind`, 'a public report uses the published release\'s area kind; leave area_kind out');
  }
  if (def.filter.agency && def.agencies && !def.agencies.includes(def.filter.agency)) throw new DefinitionError(`${prefix}.filter.agency`, `"${def.filter.agency}" is outside the report's agencies (${def.agencies.join(', ')})`);
  return { ...def, source, parsed_recipients: parsed };
}

/** The legacy `reports.schedules` entries as definitions of the built-in report they name. */
export function legacySchedules(
  schedules: readonly { report: string; cron: string }[],
  builtIns: Record<string, Omit<ReportSpec, 'timezone'>>,
  outDir: string,
): ReportDefinitionFull[] {
  const used = new Map<string, number>();
  return schedules.map((s, i) => {
    const b = builtIns[s.report];
    if (!b) throw new DefinitionError(`reports.schedules.${i}.report`, `unknown report "${s.report}" (built-in reports: ${Object.keys(builtIns).join(', ')})`);
    const n = (used.get(s.report) ?? 0) + 1;
    used.set(s.report, n);
    return {
      id: n === 1 ? s.report : `${s.report}-${n}`,
      title: b.title,
      views: [...b.views],
      filter: { ...(b.filter as CaseFilter) },
      area_kind: b.area_kind,
      period: b.period,
      formats: ['pdf', 'csv'],
      cron: s.cron,
      timezone: null,
      recipients: ['folder'],
      audience: b.audience,
      owner: null,
      agencies: b.agencies,
      enabled: true,
      source: 'config',
      parsed_recipients: [{ kind: 'folder', raw: 'folder', target: outDir }],
    } satisfies ReportDefinitionFull;
  });
}

/** The spec a definition asks definitions.ts to build, in the zone it runs in. */
export function specOf(def: ReportDefinitionInput, timezone: string): ReportSpec {
  return {
    id: def.id,
    title: def.title,
    views: [...def.views],
    filter: { ...def.filter },
    ...(def.area_kind ? { area_kind: def.area_kind } : {}),
    period: def.period,
    audience: def.audience,
    agencies: def.agencies,
    timezone,
  };
}

/** A definition as the API and records show it (no parsed fields; webhook URLs without credentials or query). */
export function publicDefinition(def: ReportDefinitionFull): ReportDefinitionInput & { source: ReportDefinitionFull['source'] } {
  const { parsed_recipients, ...rest } = def;
  return { ...rest, recipients: parsed_recipients.map(recipientLabel) };
}

/** How a recipient is named in records, logs and the API: a webhook URL loses user:password and query (tokens live there). */
export function recipientLabel(r: Recipient): string {
  // A folder as the definition wrote it ("folder" is reports.out_dir): the server's own paths stay off the API.
  if (r.kind !== 'webhook') return r.kind === 'folder' ? r.raw.trim() : r.target;
  const u = new URL(r.target);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
