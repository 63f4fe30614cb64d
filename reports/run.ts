// One run of a report definition: build it, render its files into the run's archive folder
// (<out_dir>/runs/<run id>/, atomically), deliver to each recipient, and record all of it —
// the run and each recipient's delivery (started, finished, status, error, attempts) — in the
// warehouse (warehouse/analytics/report-runs.ts). A failure is never silent and never recorded as
// a success: the run is 'partial' or 'failed', the error is logged as an error, and the report's
// owner is told by e-mail (itself recorded). A retry resends only to the recipients that failed.
// Runs of one definition never overlap: a second start while one runs is refused with its id.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Warehouse } from '../warehouse/db.ts';
import { CivicError } from '../warehouse/errors.ts';
import {
  finishDelivery,
  finishRun,
  getRun,
  insertRun,
  recordRunFiles,
  startDelivery,
  type RunFile,
  type RunRecord,
  type RunStatus,
  type RunTrigger,
} from '../warehouse/analytics/report-runs.ts';
import { buildReport, type ReportContext } from './definitions.ts';

/** Whose data and which zone (asked at each run: an ingest may have recorded them since the start), with the configuration's targets, minimum count and disclosure. */
export type RunContext = Omit<ReportContext, 'as_of'>;
import { renderPdf } from './render-pdf.ts';
import { csvFiles } from './render-csv.ts';
import { copyFilesAtomic, writeFileAtomic } from './deliver.ts';
import { EmailError, MessageTooLargeError, sendEmail, type SmtpSettings } from './deliver-email.ts';
import { postWebhook, safeUrl, WebhookError } from './deliver-webhook.ts';
import { fileLinkUrl, signFileLink } from './file-link.ts';
import { publicDefinition, recipientLabel, specOf, type Recipient, type ReportDefinitionFull } from './report-config.ts';

export interface RunLog {
  info: (o: object, m: string) => void;
  warn?: (o: object, m: string) => void;
  error: (o: object, m: string) => void;
}

export interface ReportRunnerOptions {
  /** Where runs read and write (its own connections: a long report must not hold the API's). */
  wh: Warehouse;
  /** Whose data and which zone, asked at each run: an ingest since the start may have recorded them. */
  context: () => Promise<RunContext>;
  /** reports.out_dir: the runs' archive is <out_dir>/runs/<run id>/. */
  outDir: string;
  smtp: SmtpSettings | null;
  webhookSecret: string | null;
  /** Base URL of this server as recipients reach it (reports.public_url); null = no links can be sent. */
  publicUrl: string | null;
  /** Key of the signed file links (reports/file-link.ts). */
  linkKey: Buffer;
  /** How long a link in an e-mail or webhook works. */
  linkHours: number;
  /** Attempts per recipient after the first (e-mail: temporary failures; webhooks: network, 5xx, 429), and the first backoff. */
  retries?: number;
  backoffMs?: number;
  log: RunLog;
}

export interface StartOptions {
  trigger: RunTrigger;
  scheduled_for?: string | null;
  requested_by?: string | null;
  /** Build the report as of this time (the CLI's --as-of); default: the data's. */
  as_of?: string;
  /** A retry: the run whose files are resent, and the recipients that failed there. */
  retry?: { of: RunRecord; recipients: Recipient[] };
}

export class RunConflictError extends CivicError {
  constructor(readonly reportId: string, readonly runningRunId: string) {
    super(`Report "${reportId}" is already running (run ${runningRunId}); runs of one report never overlap. Wait for it: GET /api/reports/runs/${runningRunId}`, { status: 409 });
  }
}

const CONTENT_TYPES: Record<string, string> = { pdf: 'application/pdf', csv: 'text/csv; charset=utf-8' };
const contentType = (name: string) => CONTENT_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';

/** Sortable by time, unguessable enough for a path segment; also a safe folder name. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}
export const RUN_ID_PATTERN = '^\\d{8}T\\d{6}Z-[0-9a-f]{8}$';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome { status: 'sent' | 'failed'; attempts: number; error: string | null; detail: string | null }

export class ReportRunner {
  private readonly running = new Map<string, { run_id: string; done: Promise<RunRecord> }>();

  constructor(readonly opts: ReportRunnerOptions) {}

  archiveDir(runId: string): string {
    return join(this.opts.outDir, 'runs', runId);
  }

  /** The run of this definition now in progress, if any. */
  runningRun(reportId: string): string | null {
    return this.running.get(reportId)?.run_id ?? null;
  }

  /** Every run in progress finished (for a clean shutdown and for tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /**
   * Starts a run and returns its id at once (the run row exists by then); `done` resolves with its
   * record when every delivery has finished. Refused (RunConflictError) while one of the same
   * definition runs.
   */
  async start(def: ReportDefinitionFull, o: StartOptions): Promise<{ run_id: string; done: Promise<RunRecord> }> {
    const busy = this.running.get(def.id);
    if (busy) throw new RunConflictError(def.id, busy.run_id);
    const run_id = newRunId();
    // Reserve the definition before the first await, so two starts in one tick cannot both pass.
    let release!: (r: RunRecord) => void;
    let fail!: (e: unknown) => void;
    const done = new Promise<RunRecord>((res, rej) => {
      release = res;
      fail = rej;
    });
    done.catch(() => undefined);
    this.running.set(def.id, { run_id, done });
    try {
      await insertRun(this.opts.wh, {
        run_id,
        report_id: def.id,
        title: def.title,
        trigger: o.trigger,
        scheduled_for: o.scheduled_for ?? null,
        retry_of: o.retry?.of.run_id ?? null,
        requested_by: o.requested_by ?? null,
        started_at: new Date().toISOString(),
        definition: publicDefinition(def),
      });
    } catch (err) {
      this.running.delete(def.id);
      throw err;
    }
    this.execute(def, run_id, o)
      .then(async () => release((await getRun(this.opts.wh, run_id))!))
      .catch(fail)
      .finally(() => this.running.delete(def.id));
    return { run_id, done };
  }

  private async execute(def: ReportDefinitionFull, runId: string, o: StartOptions): Promise<void> {
    const wh = this.opts.wh;
    const log = this.opts.log;
    let files: (RunFile & { path: string })[];
    let meta: { title: string; subtitle: string; as_of: string; period: string };
    try {
      ({ files, meta } = o.retry?.of.files.length ? this.reuseFiles(o.retry.of, runId) : await this.build(def, runId, o.as_of));
      await recordRunFiles(wh, runId, { as_of: meta.as_of, period: meta.period, files: files.map(({ path: _, ...f }) => f) });
    } catch (err) {
      const message = `The report could not be built: ${(err as Error).message}`;
      log.error({ err, report: def.id, run_id: runId }, 'report run failed');
      await finishRun(wh, runId, 'failed', message);
      await this.tellOwner(def, runId, 'failed', [message]);
      return;
    }

    const recipients = o.retry ? o.retry.recipients : def.parsed_recipients;
    // One recipient at a time keeps the SMTP server and the receivers unhurried; each is recorded on its own.
    const failures: string[] = [];
    let sent = 0;
    for (const r of recipients) {
      const label = recipientLabel(r);
      await startDelivery(wh, { run_id: runId, recipient: label, kind: r.kind });
      let out: Outcome;
      try {
        out = await this.deliver(r, def, runId, files, meta);
      } catch (err) {
        out = { status: 'failed', attempts: 1, error: (err as Error).message, detail: null };
      }
      await finishDelivery(wh, { run_id: runId, recipient: label, kind: r.kind, ...out });
      if (out.status === 'sent') sent++;
      else failures.push(`${label}: ${out.error}`);
    }
    const status: Exclude<RunStatus, 'running'> = failures.length === 0 ? 'succeeded' : sent === 0 ? 'failed' : 'partial';
    const error = failures.length ? `${failures.length} of ${recipients.length} deliveries failed` : null;
    await finishRun(wh, runId, status, error);
    if (status === 'succeeded') {
      log.info({ report: def.id, run_id: runId, files: files.map((f) => f.name), recipients: recipients.length }, 'report run succeeded');
    } else {
      log.error({ report: def.id, run_id: runId, status, failures }, status === 'failed' ? 'report run failed' : 'report run partly failed');
      await this.tellOwner(def, runId, status, failures);
    }
  }

  /** Builds the content and writes each format into the run's archive folder. */
  private async build(def: ReportDefinitionFull, runId: string, asOf?: string) {
    const ctx = await this.opts.context();
    const timezone = def.timezone ?? ctx.timezone;
    // The configuration's judging rules go with it: targets, the minimum count, disclosure (k).
    const content = await buildReport(this.opts.wh, specOf(def, timezone), { ...ctx, timezone, ...(asOf ? { as_of: asOf } : {}) });
    const dir = this.archiveDir(runId);
    const files: (RunFile & { path: string })[] = [];
    if (def.formats.includes('pdf')) {
      const pdf = await renderPdf(content);
      const name = `${def.id}_${content.period}.pdf`;
      const w = await writeFileAtomic(dir, name, pdf);
      files.push({ name, bytes: w.bytes, sha256: createHash('sha256').update(pdf).digest('hex'), content_type: contentType(name), path: w.path });
    }
    if (def.formats.includes('csv')) {
      for (const f of csvFiles(content)) {
        // The file name follows the definition's id (a district's report is not the built-in's).
        const name = f.name.startsWith(`${content.id}_`) ? `${def.id}_${f.name.slice(content.id.length + 1)}` : f.name;
        const hash = createHash('sha256');
        async function* hashed() {
          for await (const c of f.chunks()) {
            hash.update(c, 'utf8');
            yield c;
          }
        }
        const w = await writeFileAtomic(dir, name, hashed());
        files.push({ name, bytes: w.bytes, sha256: hash.digest('hex'), content_type: contentType(name), path: w.path });
      }
    }
    return { files, meta: { title: content.title, subtitle: content.subtitle, as_of: content.as_of, period: content.period } };
  }

  /** A retry sends the very files the others received: linked (or copied) into the retry's archive. */
  private reuseFiles(of: RunRecord, runId: string) {
    const dir = this.archiveDir(runId);
    mkdirSync(dir, { recursive: true });
    const files = of.files.map((f) => {
      const from = join(this.archiveDir(of.run_id), f.name);
      if (!existsSync(from)) throw new Error(`the files of run ${of.run_id} are no longer in ${this.archiveDir(of.run_id)}`);
      const to = join(dir, f.name);
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
      return { ...f, path: to };
    });
    return { files, meta: { title: of.title ?? of.report_id, subtitle: '', as_of: of.as_of ?? '', period: of.period ?? '' } };
  }

  private links(runId: string, files: RunFile[]) {
    if (!this.opts.publicUrl) return null;
    const exp = Math.floor(Date.now() / 1000) + Math.round(this.opts.linkHours * 3600);
    return files.map((f, i) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256, content_type: f.content_type, url: fileLinkUrl(this.opts.publicUrl!, signFileLink({ run: runId, file: i, exp }, this.opts.linkKey)), expires_at: new Date(exp * 1000).toISOString() }));
  }

  private async deliver(r: Recipient, def: ReportDefinitionFull, runId: string, files: (RunFile & { path: string })[], meta: { title: string; subtitle: string; as_of: string; period: string }): Promise<Outcome> {
    if (r.kind === 'folder') {
      const written = copyFilesAtomic(r.target, files);
      return { status: 'sent', attempts: 1, error: null, detail: `wrote ${written.length} file${written.length === 1 ? '' : 's'} into ${r.target}` };
    }
    if (r.kind === 'webhook') return this.deliverWebhook(r, def, runId, files, meta);
    return this.deliverEmail(r, def, runId, files, meta);
  }

  private async deliverEmail(r: Recipient, def: ReportDefinitionFull, runId: string, files: (RunFile & { path: string })[], meta: { title: string; subtitle: string; as_of: string }): Promise<Outcome> {
    const smtp = this.opts.smtp;
    if (!smtp) return { status: 'failed', attempts: 0, error: 'reports.smtp is not configured', detail: null };
    const intro = [meta.title, meta.subtitle, meta.as_of ? `Data as of ${meta.as_of}.` : ''].filter(Boolean).join('\n');
    const attached = {
      to: [r.target],
      subject: meta.title,
      text: `${intro}\n\nAttached: ${files.map((f) => f.name).join(', ')}.\n\nReport "${def.id}", run ${runId}.`,
      attachments: files.map((f) => ({ filename: f.name, content: readFileSync(f.path), contentType: f.content_type })),
    };
    let linked: { message: typeof attached; why: string } | null = null;
    const attempt = async (m: typeof attached) => sendEmail(smtp, m);
    const retries = this.opts.retries ?? 3;
    let attempts = 0;
    let message = attached;
    for (;;) {
      attempts++;
      try {
        const res = await attempt(message);
        if (res.rejected.length) return { status: 'failed', attempts, error: `refused by the mail server: ${res.rejected[0].error}`, detail: null };
        return { status: 'sent', attempts, error: null, detail: linked ? `sent as download links: ${linked.why}` : `attached: ${files.map((f) => f.name).join(', ')}` };
      } catch (err) {
        if (err instanceof MessageTooLargeError && !linked) {
          // Too large to attach: the same message with signed, expiring links instead.
          const links = this.links(runId, files);
          const why = err.limit ? `the attachments (${err.size.toLocaleString('en-US')} bytes) exceed the mail server's limit of ${err.limit.toLocaleString('en-US')} bytes` : `the mail server refused the attachments' size (${err.size.toLocaleString('en-US')} bytes)`;
          if (!links) return { status: 'failed', attempts, error: `${why}, and reports.public_url is not set, so no download link can be sent instead`, detail: null };
          linked = { why, message: attached };
          message = {
            ...attached,
            text: `${intro}\n\nThe files are too large for e-mail (${why}); download them here until ${links[0].expires_at}:\n${links.map((l) => `  ${l.name} (${l.bytes.toLocaleString('en-US')} bytes): ${l.url}`).join('\n')}\n\nReport "${def.id}", run ${runId}.`,
            attachments: [],
          };
          attempts--; // the refusal came before anything was sent: not an attempt to deliver
          continue;
        }
        const temporary = err instanceof EmailError ? err.temporary : false;
        if (!temporary || attempts > retries) return { status: 'failed', attempts, error: (err as Error).message, detail: linked ? `as download links: ${linked.why}` : null };
        await sleep((this.opts.backoffMs ?? 1000) * 2 ** (attempts - 1));
      }
    }
  }

  private async deliverWebhook(r: Recipient, def: ReportDefinitionFull, runId: string, files: (RunFile & { path: string })[], meta: { title: string; as_of: string; period: string }): Promise<Outcome> {
    const secret = this.opts.webhookSecret;
    if (!secret) return { status: 'failed', attempts: 0, error: 'reports.webhook_secret is not set', detail: null };
    const links = this.links(runId, files);
    const payload = {
      event: 'report.run',
      run_id: runId,
      report: { id: def.id, title: meta.title },
      as_of: meta.as_of || null,
      period: meta.period || null,
      // Links when the server has a public address; else the files themselves, base64.
      files: links
        ? links
        : files.map(({ path, ...f }) => ({ ...f, content_base64: readFileSync(path).toString('base64') })),
    };
    try {
      const res = await postWebhook(r.target, secret, payload, { retries: this.opts.retries ?? 3, backoffMs: this.opts.backoffMs ?? 1000 });
      return { status: 'sent', attempts: res.attempts, error: null, detail: `HTTP ${res.status}; files ${links ? 'as links' : 'inline (base64)'}` };
    } catch (err) {
      return { status: 'failed', attempts: err instanceof WebhookError ? err.attempts : 1, error: (err as Error).message.replaceAll(r.target, safeUrl(r.target)), detail: null };
    }
  }

  /** The owner hears of every run that did not fully succeed; the notice is recorded as a delivery of its own. */
  private async tellOwner(def: ReportDefinitionFull, runId: string, status: 'failed' | 'partial', problems: string[]): Promise<void> {
    const log = this.opts.log;
    if (!def.owner || !this.opts.smtp) {
      log.error({ report: def.id, run_id: runId }, 'report run did not succeed and the report has no owner to tell (set its owner and reports.smtp)');
      return;
    }
    const wh = this.opts.wh;
    await startDelivery(wh, { run_id: runId, recipient: def.owner, kind: 'owner' });
    const link = this.opts.publicUrl ? `\n\nThe run: ${this.opts.publicUrl.replace(/\/+$/, '')}/api/reports/runs/${runId}` : '';
    const text = `The report "${def.title}" (${def.id}) ${status === 'failed' ? 'failed' : 'was not delivered to every recipient'} in run ${runId}.\n\n${problems.map((p) => `- ${p}`).join('\n')}\n\nRetry the failed deliveries only: POST /api/reports/runs/${runId}/retry${link}`;
    let outcome: Outcome;
    try {
      const res = await sendEmail(this.opts.smtp, { to: [def.owner], subject: `Report ${status === 'failed' ? 'failed' : 'partly failed'}: ${def.title}`, text });
      outcome = res.rejected.length ? { status: 'failed', attempts: 1, error: res.rejected[0].error, detail: null } : { status: 'sent', attempts: 1, error: null, detail: 'failure notice' };
    } catch (err) {
      outcome = { status: 'failed', attempts: 1, error: (err as Error).message, detail: null };
    }
    await finishDelivery(wh, { run_id: runId, recipient: def.owner, kind: 'owner', ...outcome });
    if (outcome.status === 'failed') log.error({ report: def.id, run_id: runId, owner: def.owner, error: outcome.error }, 'the report owner could not be told of the failure');
  }

  /**
   * A retry of a finished run: a new run (trigger 'retry', retry_of the original) that resends the
   * original's files to the recipients whose delivery failed there, and only to them. A run that
   * failed before it had files is built again for every recipient.
   */
  async retry(runId: string, def: ReportDefinitionFull, requestedBy: string | null): Promise<{ run_id: string; recipients: string[]; done: Promise<RunRecord> }> {
    const of = await getRun(this.opts.wh, runId);
    if (!of) throw new CivicError(`No run ${runId}`, { status: 404 });
    if (of.status === 'running') throw new CivicError(`Run ${runId} is still running`, { status: 409 });
    if (of.status === 'succeeded') throw new CivicError(`Run ${runId} succeeded: every recipient has the report; nothing to retry`, { status: 409 });
    if (of.files.length === 0) {
      const r = await this.start(def, { trigger: 'retry', requested_by: requestedBy, retry: { of: { ...of, files: [] }, recipients: def.parsed_recipients } });
      return { ...r, recipients: def.parsed_recipients.map(recipientLabel) };
    }
    const failed = new Set(of.deliveries.filter((d) => d.kind !== 'owner' && d.status === 'failed').map((d) => `${d.kind}\u0000${d.recipient}`));
    // The recipient as configured now (a webhook's URL with its credentials), matched by its recorded label.
    const recipients = def.parsed_recipients.filter((r) => failed.has(`${r.kind}\u0000${recipientLabel(r)}`));
    if (recipients.length === 0) throw new CivicError(`None of run ${runId}'s failed recipients is still a recipient of "${def.id}"`, { status: 409 });
    const r = await this.start(def, { trigger: 'retry', requested_by: requestedBy, retry: { of, recipients } });
    return { ...r, recipients: recipients.map(recipientLabel) };
  }
}
