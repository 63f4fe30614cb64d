// Scheduled reports: node-cron runs each definition's cron expression in the definition's own
// IANA zone (else the jurisdiction's), so "Monday 07:00" is 07:00 local on both sides of a
// daylight-saving change.
//
// Three things node-cron does not do, done here:
// - A local time that does not exist (02:30 on the spring-forward night in New York): node-cron
//   skips that day altogether. Here the slot runs at the first instant after the gap (03:00 local),
//   as Vixie cron does. A local time that happens twice (01:30 on the fall-back night) runs once —
//   node-cron already does that.
// - Catch-up: the last slot handled is recorded per definition in the warehouse; at start, if a
//   slot passed since then (the server was down), the report runs ONCE for the latest of them, not
//   once per missed slot.
// - No overlap across triggers: a slot that comes while the same definition is still running
//   (scheduled, on demand or a retry) is skipped and logged, and recorded as handled.
import cron, { type ScheduledTask } from 'node-cron';
import type { Warehouse } from '../warehouse/db.ts';
import { lastScheduledSlot, recordScheduledSlot } from '../warehouse/analytics/report-runs.ts';
import type { ReportRunner, RunLog } from './run.ts';
import type { ReportDefinitionFull } from './report-config.ts';

interface Matcher { next(from: Date): Date }

const matchers = new Map<string, Matcher>();

/** node-cron's own next-match logic for an expression in a zone (the code its runner fires by). */
function cronMatcher(expr: string, timezone: string): Matcher {
  const key = `${timezone}\u0000${expr}`;
  let m = matchers.get(key);
  if (m) return m;
  const task = cron.createTask(expr, () => undefined, { timezone });
  const tm = (task as unknown as { timeMatcher?: { getNextMatch(d: Date): Date } }).timeMatcher;
  void task.destroy(); // only its matcher is wanted; out of node-cron's registry
  if (!tm || typeof tm.getNextMatch !== 'function') throw new Error('node-cron has no timeMatcher.getNextMatch: the version pinned in package.json (4.6.0) is what this was written for');
  m = { next: (from) => tm.getNextMatch(from) };
  matchers.set(key, m);
  return m;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/** The zone's UTC offset at an instant, in minutes. */
export function offsetMinutes(timezone: string, at: Date): number {
  let f = offsetFormats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' });
    offsetFormats.set(timezone, f);
  }
  const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
}

/** The instants in (from, until] where the zone's clocks jump forward, with the size of the jump. */
function forwardTransitions(timezone: string, from: Date, until: Date): { at: Date; before: number; after: number }[] {
  const out: { at: Date; before: number; after: number }[] = [];
  const DAY = 86_400_000;
  let t = from.getTime();
  let o = offsetMinutes(timezone, from);
  while (t < until.getTime()) {
    const u = Math.min(t + DAY, until.getTime());
    const ou = offsetMinutes(timezone, new Date(u));
    if (ou > o) {
      // Bisect to the second: the first instant with the new offset.
      let lo = t;
      let hi = u;
      while (hi - lo > 1000) {
        const mid = Math.floor((lo + hi) / 2000) * 1000;
        if (offsetMinutes(timezone, new Date(mid)) > o) hi = mid;
        else lo = mid;
      }
      out.push({ at: new Date(hi), before: o, after: ou });
    }
    t = u;
    o = ou;
  }
  return out;
}

/**
 * The slots of `expr` whose local time falls in a spring-forward gap between `from` and `until`:
 * each runs at the instant the clocks jump (the first local time after the gap).
 */
export function gapSlots(expr: string, timezone: string, from: Date, until: Date): Date[] {
  const fields = expr.trim().split(/\s+/);
  const dateFields = fields.slice(-3).join(' ');
  const parsed = cron.parse(expr);
  const dayTask = cron.createTask(`* * * ${dateFields}`, () => undefined, { timezone });
  try {
    const out: Date[] = [];
    for (const tr of forwardTransitions(timezone, from, until)) {
      // Wall-clock times (as if UTC) from the last one before the jump up to the first after it.
      const gapStart = tr.at.getTime() + tr.before * 60_000;
      const gapEnd = tr.at.getTime() + tr.after * 60_000;
      if (!dayTask.match(tr.at)) continue;
      const day = new Date(gapStart);
      const base = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
      const inGap = parsed.hour.some((h) => parsed.minute.some((m) => parsed.second.some((s) => {
        const wall = base + ((h * 60 + m) * 60 + s) * 1000;
        return wall >= gapStart && wall < gapEnd;
      })));
      if (inGap && tr.at > from && tr.at <= until) out.push(tr.at);
    }
    return out;
  } finally {
    void dayTask.destroy();
  }
}

/** The next `n` times `expr` runs after `from`, in `timezone` (gap slots included). */
export function nextRunTimes(expr: string, timezone: string, n = 3, from = new Date()): Date[] {
  const m = cronMatcher(expr, timezone);
  const out: Date[] = [];
  let t = from;
  // Gaps in the next ~13 months are enough for three runs of any schedule that runs yearly or more.
  const gaps = gapSlots(expr, timezone, from, new Date(from.getTime() + 400 * 86_400_000));
  while (out.length < n) {
    const next = m.next(t);
    const gap = gaps.find((g) => g > t && g < next);
    const pick = gap ?? next;
    out.push(pick);
    t = pick;
  }
  return out;
}

/** The latest slot in (after, now], or null: what a catch-up at start runs for (once). */
export function latestMissedSlot(expr: string, timezone: string, after: Date, now: Date): Date | null {
  const m = cronMatcher(expr, timezone);
  const gaps = gapSlots(expr, timezone, after, now);
  let latest: Date | null = gaps.at(-1) ?? null;
  let t = after;
  // Walk forward; a schedule every second over a long downtime is cut short at the newest found.
  for (let i = 0; i < 100_000; i++) {
    const next = m.next(t);
    if (next > now) break;
    if (!latest || next > latest) latest = next;
    t = next;
  }
  return latest;
}

export interface SchedulerOptions {
  runner: Pick<ReportRunner, 'start' | 'runningRun'>;
  wh: Warehouse;
  /** Every definition (configuration and API), read at start and at each refresh. */
  definitions: () => Promise<ReportDefinitionFull[]>;
  /** The jurisdiction's zone, for definitions without their own. */
  timezone: () => Promise<string>;
  log: RunLog;
}

export interface PlannedReport { report: string; cron: string; timezone: string; next: string[] }

interface Entry { def: ReportDefinitionFull; timezone: string; task: ScheduledTask; gapTimer: NodeJS.Timeout | null; key: string }

export class ReportScheduler {
  private entries = new Map<string, Entry>();
  private stopped = false;
  /** The catch-up runs started at start (their ids), for the log and the tests. */
  readonly caughtUp: { report: string; slot: string; run_id: string | null }[] = [];

  constructor(private readonly o: SchedulerOptions) {}

  /** Catches up what was missed (once per definition), then schedules every enabled definition. */
  async start(): Promise<void> {
    const defs = await this.scheduled();
    for (const { def, timezone } of defs) await this.catchUp(def, timezone);
    for (const { def, timezone } of defs) this.schedule(def, timezone);
  }

  /** After definitions changed (API): reschedules what changed, drops what went. Catches nothing up. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const defs = await this.scheduled();
    const keep = new Set<string>();
    for (const { def, timezone } of defs) {
      keep.add(def.id);
      const e = this.entries.get(def.id);
      if (e && e.key === keyOf(def, timezone)) {
        e.def = def; // recipients and the rest take effect at the next run
        continue;
      }
      if (e) this.unschedule(def.id);
      // A new (or re-timed) schedule starts now: a slot is "missed" only after this moment.
      if (!(await lastScheduledSlot(this.o.wh, def.id))) await recordScheduledSlot(this.o.wh, def.id, new Date().toISOString());
      this.schedule(def, timezone);
    }
    for (const id of [...this.entries.keys()]) if (!keep.has(id)) this.unschedule(id);
  }

  planned(): PlannedReport[] {
    return [...this.entries.values()].map((e) => ({ report: e.def.id, cron: e.def.cron!, timezone: e.timezone, next: nextRunTimes(e.def.cron!, e.timezone, 3).map((d) => d.toISOString()) }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.entries.keys()]) this.unschedule(id);
  }

  private async scheduled(): Promise<{ def: ReportDefinitionFull; timezone: string }[]> {
    const fallback = await this.o.timezone();
    return (await this.o.definitions()).filter((d) => d.enabled && d.cron).map((def) => ({ def, timezone: def.timezone ?? fallback }));
  }

  private async catchUp(def: ReportDefinitionFull, timezone: string): Promise<void> {
    const now = new Date();
    const last = await lastScheduledSlot(this.o.wh, def.id);
    if (!last) {
      // First time this definition is scheduled: nothing was missed; from now on it is counted.
      await recordScheduledSlot(this.o.wh, def.id, now.toISOString());
      return;
    }
    const slot = latestMissedSlot(def.cron!, timezone, new Date(last), now);
    if (!slot) return;
    await recordScheduledSlot(this.o.wh, def.id, slot.toISOString());
    this.o.log.warn?.({ report: def.id, missed_since: last, slot: slot.toISOString() }, 'report schedule missed while the server was down: running it once now');
    const started = await this.o.runner.start(def, { trigger: 'catch-up', scheduled_for: slot.toISOString() }).catch((err) => {
      this.o.log.error({ err, report: def.id }, 'catch-up run could not start');
      return null;
    });
    this.caughtUp.push({ report: def.id, slot: slot.toISOString(), run_id: started?.run_id ?? null });
  }

  private schedule(def: ReportDefinitionFull, timezone: string): void {
    const task = cron.schedule(def.cron!, (ctx) => this.fire(def.id, ctx.date), { timezone, name: `report:${def.id}`, noOverlap: false });
    const entry: Entry = { def, timezone, task, gapTimer: null, key: keyOf(def, timezone) };
    this.entries.set(def.id, entry);
    this.armGap(entry);
  }

  /** A timer for the next slot node-cron would skip (in a spring-forward gap), re-armed after it. */
  private armGap(e: Entry): void {
    if (e.gapTimer) clearTimeout(e.gapTimer);
    e.gapTimer = null;
    const now = new Date();
    const next = gapSlots(e.def.cron!, e.timezone, now, new Date(now.getTime() + 400 * 86_400_000))[0];
    if (!next) return;
    // At most a day per timer (as node-cron does): long timeouts overflow, and clocks drift.
    const delay = Math.min(next.getTime() - now.getTime(), 86_400_000);
    e.gapTimer = setTimeout(() => {
      if (Date.now() >= next.getTime()) void this.fire(e.def.id, next);
      if (this.entries.get(e.def.id) === e) this.armGap(e);
    }, delay);
    e.gapTimer.unref?.();
  }

  private unschedule(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    void e.task.destroy();
    if (e.gapTimer) clearTimeout(e.gapTimer);
    this.entries.delete(id);
  }

  private async fire(id: string, slotDate: Date): Promise<void> {
    const e = this.entries.get(id);
    if (!e || this.stopped) return;
    const slot = new Date(Math.floor(slotDate.getTime() / 1000) * 1000).toISOString();
    const busy = this.o.runner.runningRun(id);
    try {
      // Started before anything is awaited: the run begins at the slot, not after a write.
      // Its failure is caught here at once: a rejection left pending while the slot is recorded would be unhandled and end the process.
      const started = busy ? null : this.o.runner.start(e.def, { trigger: 'schedule', scheduled_for: slot }).catch((err: unknown) => {
        this.o.log.error({ err, report: id, slot }, 'scheduled report could not start');
        return null;
      });
      await recordScheduledSlot(this.o.wh, id, slot);
      if (busy) this.o.log.warn?.({ report: id, slot, running: busy }, 'scheduled report skipped: the previous run of it is still going (runs never overlap)');
      await started;
    } catch (err) {
      this.o.log.error({ err, report: id, slot }, 'scheduled report could not start');
    }
  }
}

const keyOf = (def: ReportDefinitionFull, timezone: string) => `${def.cron}\u0000${timezone}`;
