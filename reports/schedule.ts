// Scheduled reports: node-cron in the jurisdiction's time zone, so "Monday 07:00" is local.
import cron, { type ScheduledTask } from 'node-cron';
import type { Warehouse } from '../warehouse/db.ts';
import { getReport } from './definitions.ts';
import { runReport, type ReportRun } from './run.ts';

export interface Schedule { report: string; cron: string }
export interface SchedulerOptions {
  /** The zone the cron expressions are read in (the jurisdiction's, at start). */
  timezone: string;
  /** Whose data and which zone, asked at each run: an ingest since the start may have recorded them. */
  context: () => Promise<{ jurisdiction: string; timezone: string }>;
  outDir: string;
  log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void };
}

export interface Scheduler { tasks: { report: string; cron: string; next: Date | null }[]; stop(): Promise<void> }

export function startScheduler(wh: Warehouse, schedules: Schedule[], opts: SchedulerOptions, onRun?: (r: ReportRun) => void): Scheduler {
  const tasks: { schedule: Schedule; task: ScheduledTask }[] = schedules.map((s) => {
    getReport(s.report); // fail at start, not at 07:00 on Monday
    const task = cron.schedule(
      s.cron,
      async () => {
        try {
          const run = await runReport(wh, s.report, await opts.context(), opts.outDir);
          opts.log.info({ report: s.report, files: run.files }, 'scheduled report written');
          onRun?.(run);
        } catch (err) {
          opts.log.error({ err, report: s.report }, 'scheduled report failed');
        }
      },
      { timezone: opts.timezone, name: `report:${s.report}`, noOverlap: true },
    );
    return { schedule: s, task };
  });
  return {
    tasks: tasks.map(({ schedule, task }) => ({ report: schedule.report, cron: schedule.cron, next: task.getNextRun() })),
    async stop() {
      for (const { task } of tasks) await task.stop();
    },
  };
}
