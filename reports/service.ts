// The reports as one service for the server, the API and the CLI: every definition (the
// configuration's, the legacy `reports.schedules` mapped onto definitions, the built-in reports on
// demand, and those made through the API), the runner, and the scheduler.
import type { Warehouse } from '../warehouse/db.ts';
import { CivicError } from '../warehouse/errors.ts';
import { isValidTimeZone } from '../ingest/time-zone.ts';
import { failUnfinishedRuns, listStoredDefinitions, getStoredDefinition } from '../warehouse/analytics/report-runs.ts';
import { BUILT_IN_REPORTS } from './definitions.ts';
import { checkDefinition, DefinitionError, legacySchedules, type DefinitionChecks, type ReportDefinitionFull } from './report-config.ts';
import { ReportRunner, type RunContext, type RunLog } from './run.ts';
import { ReportScheduler } from './schedule.ts';
import type { SmtpSettings } from './deliver-email.ts';

export interface ReportsConfig {
  out_dir: string;
  schedules: { report: string; cron: string }[];
  definitions: unknown[];
  smtp: SmtpSettings | null;
  public_url: string | null;
  webhook_secret: string | null;
  link_hours: number;
}

export interface ReportServiceOptions {
  /** Runs read and write here: give it connections of its own (Warehouse.readers with generous limits). */
  wh: Warehouse;
  reports: ReportsConfig;
  linkKey: Buffer;
  context: () => Promise<RunContext>;
  log: RunLog;
  /** Tests: shorter waits between delivery attempts. */
  retries?: number;
  backoffMs?: number;
}

export class ReportService {
  readonly runner: ReportRunner;
  readonly scheduler: ReportScheduler;
  /** Configuration (and legacy schedules) first: their ids are taken. Checked once, at construction. */
  private readonly configured: ReportDefinitionFull[];

  constructor(readonly o: ReportServiceOptions) {
    const r = o.reports;
    const legacy = legacySchedules(r.schedules, BUILT_IN_REPORTS, r.out_dir);
    // parseConfig has checked reports.definitions; a caller that built the config by hand gets the same checks here.
    const defs = r.definitions.map((d, i) => ((d as ReportDefinitionFull).parsed_recipients ? (d as ReportDefinitionFull) : checkDefinition(d, `reports.definitions.${i}`, this.checks(), 'config')));
    const ids = new Set<string>();
    for (const [i, d] of defs.entries()) {
      if (ids.has(d.id)) throw new DefinitionError(`reports.definitions.${i}.id`, `"${d.id}" is used by another definition`);
      ids.add(d.id);
    }
    // A legacy schedule of a report the definitions already name is left out (the definition wins).
    this.configured = [...defs, ...legacy.filter((l) => !ids.has(l.id))];
    this.runner = new ReportRunner({
      wh: o.wh,
      context: o.context,
      outDir: r.out_dir,
      smtp: r.smtp,
      webhookSecret: r.webhook_secret,
      publicUrl: r.public_url,
      linkKey: o.linkKey,
      linkHours: r.link_hours,
      retries: o.retries,
      backoffMs: o.backoffMs,
      log: o.log,
    });
    this.scheduler = new ReportScheduler({ runner: this.runner, wh: o.wh, definitions: () => this.definitions(), timezone: async () => (await o.context()).timezone, log: o.log });
  }

  checks(): DefinitionChecks {
    const r = this.o.reports;
    return { outDir: r.out_dir, isValidTimeZone, smtp: r.smtp !== null, webhookSecret: r.webhook_secret !== null };
  }

  /** Ids the API may not take: the configuration's and the built-in reports'. */
  reservedIds(): Set<string> {
    return new Set([...this.configured.map((d) => d.id), ...Object.keys(BUILT_IN_REPORTS)]);
  }

  private builtIns(): ReportDefinitionFull[] {
    const taken = new Set(this.configured.map((d) => d.id));
    return Object.values(BUILT_IN_REPORTS)
      .filter((b) => !taken.has(b.id))
      .map((b) => ({
        id: b.id,
        title: b.title,
        views: [...b.views],
        filter: { ...b.filter },
        ...(b.area_kind ? { area_kind: b.area_kind } : {}),
        period: b.period,
        formats: ['pdf', 'csv'],
        cron: null,
        timezone: null,
        recipients: ['folder'],
        audience: b.audience,
        owner: null,
        agencies: b.agencies,
        enabled: true,
        source: 'built-in' as const,
        parsed_recipients: [{ kind: 'folder' as const, raw: 'folder', target: this.o.reports.out_dir }],
      }));
  }

  private stored(row: { report_id: string; definition: Record<string, unknown> }): ReportDefinitionFull | null {
    try {
      return checkDefinition(row.definition, `report ${row.report_id}`, this.checks(), 'api');
    } catch (err) {
      // The configuration changed under it (no SMTP any more, say): said loudly, not run half-configured.
      this.o.log.error({ report: row.report_id, err: (err as Error).message }, 'stored report definition no longer valid: not scheduled; fix it through PUT /api/reports/definitions/:id');
      return null;
    }
  }

  async definitions(): Promise<ReportDefinitionFull[]> {
    const stored = (await listStoredDefinitions(this.o.wh)).map((r) => this.stored(r)).filter((d): d is ReportDefinitionFull => d !== null);
    return [...this.configured, ...this.builtIns(), ...stored];
  }

  async definition(id: string): Promise<ReportDefinitionFull | null> {
    const c = [...this.configured, ...this.builtIns()].find((d) => d.id === id);
    if (c) return c;
    const row = await getStoredDefinition(this.o.wh, id);
    return row ? this.stored(row) : null;
  }

  async require(id: string): Promise<ReportDefinitionFull> {
    const d = await this.definition(id);
    if (!d) throw new CivicError(`No report "${id}" (GET /api/reports lists them)`, { status: 404 });
    return d;
  }

  /** At server start: runs left 'running' by a stop are marked failed, then what was missed is caught up and the schedules start. */
  async startSchedule(): Promise<void> {
    const orphans = await failUnfinishedRuns(this.o.wh);
    if (orphans.length) this.o.log.error({ runs: orphans }, 'report runs interrupted by the last stop were recorded as failed (retry them: POST /api/reports/runs/:id/retry)');
    await this.scheduler.start();
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.runner.idle();
  }
}
