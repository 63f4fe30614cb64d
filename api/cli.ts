// `civic` — the command line. Every command opens the same warehouse the server uses; when the
// server is running, DuckDB's single-writer lock makes a writing command fail at once and say so.
import { parseArgs } from 'node:util';
import { CivicError } from '../warehouse/errors.ts';
import { writeFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { Warehouse } from '../warehouse/db.ts';
import { loadProfile } from '../ingest/profile.ts';
import { ingestFile } from '../ingest/load.ts';
import { builtInProfiles } from '../ingest/profile.ts';
import { isValidTimeZone } from '../ingest/time-zone.ts';
import { loadAreasGeoJson } from '../ingest/areas.ts';
import { assignPlaces } from '../ingest/places.ts';
import { loadCalendars } from '../ingest/calendars.ts';
import cliProgress from 'cli-progress';
import { seedDemoCity } from '../ingest/demo-city.ts';
import { computeKpis, resolveWindow } from '../warehouse/analytics/kpis.ts';
import { DIMENSION_NAMES, isDimension } from '../warehouse/queries/kpi-sql.ts';
import { kpiCsv } from './routes/kpis/index.ts';
import { runReport } from '../reports/run.ts';
import { computeFindings } from '../warehouse/analytics/findings.ts';
import { computeHotspots, hotspotsGeoJson } from '../warehouse/analytics/hotspots.ts';
import { computeEquity } from '../warehouse/analytics/equity.ts';
import { REPORTS } from '../reports/definitions.ts';
import { startServer } from './server.ts';
import { createToken, revokeToken, ROLES, type Role } from './tokens.ts';

const USAGE = `Usage: civic <command> [options]

Commands:
  serve                                 start the API, dashboard and report scheduler
  ingest <files…> --profile <P> [--timezone Z] [--progress]
                                        load exports (CSV, NDJSON, JSON, Open311 XML, Arrow);
                                        P: a built-in profile or a path to a JSON profile
  areas <file.geojson> --kind K --id-property P --name-property P
                                        load area polygons (districts, neighbourhoods) and place the cases in them
  calendars <calendars.json>            business hours and holidays for SLAs counted in working hours
  rejects <batch_id> [--json]           the rows a batch did not load, and why
  demo [--seed N] [--out manifest.json] load the demo city (and write what it planted)
  kpis [--from D] [--to D] [--as-of T] [--by service,week] [--service S] [--json|--csv]
                                        by: service, service_group, agency, channel, area, day, week, month, quarter
  trends [--by service,area] [--period week|day] [--weeks N] [--service S] [--json]
  hotspots [--resolution 8] [--k 1] [--weeks N] [--service S] [--json]   (GeoJSON with --json)
  equity [--service S] [--weeks N] [--json]
  token create --role R [--name N] [--agency A]…   an API token (printed once; stored hashed)
  token list | token revoke <id>
  report run <id> [--out DIR] [--as-of T]   render a report now (reports: ${Object.keys(REPORTS).join(', ')})

Options for every command:
  --database <path>   warehouse file (default from civic.config.json / CIVIC_DATABASE, else ./data/civic.duckdb)
`;

class UsageError extends CivicError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

/** A progress bar on a terminal; plain lines with --progress otherwise (logs, tests). */
function progressReporter(file: string, plain: boolean) {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${file.split('/').pop()} {phase} [{bar}] {percentage}%`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(100, 0, { phase: 'read' });
    return { update: (phase: string, pct: number) => bar.update(Math.max(0, Math.round(pct)), { phase }), stop: () => bar.stop() };
  }
  let last = '';
  return {
    update: (phase: string, pct: number) => {
      const line = `${phase} ${Math.max(0, Math.round(pct))}%`;
      if (plain && line !== last) process.stderr.write(`progress: ${line}\n`);
      last = line;
    },
    stop: () => undefined,
  };
}

async function withWarehouse<T>(config: Config, fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await Warehouse.open(config.database, { memoryLimit: config.memory_limit ?? undefined });
  try {
    return await fn(wh);
  } finally {
    wh.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      database: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'as-of': { type: 'string' },
      by: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      out: { type: 'string' },
      seed: { type: 'string' },
      timezone: { type: 'string' },
      role: { type: 'string' },
      kind: { type: 'string' },
      'id-property': { type: 'string' },
      'name-property': { type: 'string' },
      'population-property': { type: 'string' },
      name: { type: 'string' },
      agency: { type: 'string', multiple: true },
      progress: { type: 'boolean' },
      weeks: { type: 'string' },
      period: { type: 'string' },
      service: { type: 'string' },
      resolution: { type: 'string' },
      k: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (!command || values.help) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig(values.database ? { ...process.env, CIVIC_DATABASE: values.database } : process.env);

  switch (command) {
    case 'serve': {
      const server = await startServer(config);
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return -1; // keep running
    }
    case 'ingest': {
      if (args.length === 0) throw new UsageError('ingest needs at least one file');
      if (!values.profile) throw new UsageError(`ingest needs --profile <name|path> (built-in: ${builtInProfiles().join(', ')})`);
      const profile = loadProfile(values.profile);
      if (values.timezone) {
        if (!isValidTimeZone(values.timezone)) throw new UsageError(`--timezone: "${values.timezone}" is not an IANA time zone (e.g. America/Chicago)`);
        profile.timezone = values.timezone;
      }
      return withWarehouse(config, async (wh) => {
        for (const file of args) {
          const t0 = performance.now();
          const bar = progressReporter(file, Boolean(values.progress));
          const r = await ingestFile(wh, file, profile, { onProgress: bar.update }).finally(bar.stop);
          const secs = (performance.now() - t0) / 1000;
          if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
          else
            process.stdout.write(
              `${file}: read ${r.read}, loaded ${r.loaded}, rejected ${r.rejected}, already present ${r.duplicate}` +
                ` (${r.read} = ${r.loaded} + ${r.rejected} + ${r.duplicate}); ${r.flagged} loaded with data-quality flags; ` +
                `${r.events_added} events added in ${secs.toFixed(1)} s [batch ${r.batch_id}]\n` +
                (r.rejected > 0 ? `  see why: civic rejects ${r.batch_id}\n` : ''),
            );
        }
        return 0;
      });
    }
    case 'areas': {
      const [file] = args;
      if (!file || !values.kind || !values['id-property'] || !values['name-property']) {
        throw new UsageError('usage: civic areas <file.geojson> --kind K --id-property P --name-property P [--population-property P]');
      }
      return withWarehouse(config, async (wh) => {
        const r = await loadAreasGeoJson(wh, file, {
          kind: values.kind!, idProperty: values['id-property']!, nameProperty: values['name-property']!, populationProperty: values['population-property'],
        });
        // Cases already loaded get their places in the new areas too.
        const placed = await assignPlaces(wh, {});
        process.stdout.write(`${file}: read ${r.read} features, loaded ${r.loaded}, rejected ${r.rejected}; ${placed.cases} cases placed\n` +
          r.rejects.map((x) => `  feature ${x.feature}: ${x.reason}\n`).join(''));
        return 0;
      });
    }
    case 'calendars': {
      const [file] = args;
      if (!file) throw new UsageError('usage: civic calendars <calendars.json>');
      return withWarehouse(config, async (wh) => {
        const r = await loadCalendars(wh, file);
        process.stdout.write(`${file}: ${r.calendars} calendars loaded; ${r.cases_redated} cases re-dated in business hours\n`);
        return 0;
      });
    }
    case 'rejects': {
      const [batch] = args;
      if (!batch) throw new UsageError('usage: civic rejects <batch_id>');
      return withWarehouse(config, async (wh) => {
        const rows = await wh.all(`SELECT row_number, field, reason, raw FROM ingest_rejects WHERE batch_id = $b ORDER BY row_number`, { b: batch });
        if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else if (rows.length === 0) process.stdout.write(`no rejects in batch ${batch}\n`);
        else console.table(rows.map((r) => ({ row: r.row_number, field: r.field, reason: r.reason })));
        return 0;
      });
    }
    case 'demo': {
      return withWarehouse(config, async (wh) => {
        const r = await seedDemoCity(wh, { seed: values.seed ? Number(values.seed) : undefined });
        if (values.out) writeFileSync(values.out, JSON.stringify(r.manifest, null, 2) + '\n');
        process.stdout.write(values.json ? JSON.stringify(r) + '\n' : `demo city: ${r.cases.loaded} cases loaded (${r.cases.duplicate} already present), ${r.interactions} contacts, ${r.surveys} survey answers\n`);
        return 0;
      });
    }
    case 'kpis': {
      const by = (values.by ?? 'service').split(',');
      const bad = by.filter((d) => !isDimension(d));
      if (bad.length) throw new UsageError(`--by: unknown dimension ${bad.join(', ')} (use ${DIMENSION_NAMES.join(', ')})`);
      return withWarehouse(config, async (wh) => {
        const window = await resolveWindow(wh, { from: values.from, to: values.to, as_of: values['as-of'] }, config.timezone);
        const dims = by.filter(isDimension);
        const result = await computeKpis(wh, dims, window, values.service ? { service: values.service } : {});
        if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        else if (values.csv) process.stdout.write(kpiCsv(result.rows, dims, 'all'));
        else {
          process.stdout.write(`KPIs for cases opened ${window.from} to ${window.to} (${window.timezone}), as of ${window.as_of}\n`);
          console.table(result.rows.map((r) => ({ ...Object.fromEntries(by.map((d) => [d, r[d as keyof typeof r]])), opened: r.opened, closed: r.closed, 'median h': r.median_hours_to_close, 'on-time %': r.on_time_rate === null ? null : +(r.on_time_rate * 100).toFixed(1), pending: r.pending })));
        }
        return 0;
      });
    }
    case 'token': {
      const [sub, id] = args;
      return withWarehouse(config, async (wh) => {
        if (sub === 'create') {
          if (!values.role || !ROLES.includes(values.role as Role)) throw new UsageError(`token create needs --role ${ROLES.join('|')}`);
          const t = await createToken(wh, { name: values.name ?? `${values.role} token`, role: values.role as Role, agencies: values.agency });
          process.stdout.write(`${t.token}\n`);
          process.stderr.write(`token ${t.token_id} (${values.role}${values.agency ? `, agencies: ${values.agency.join(', ')}` : ''}). Shown once: only its hash is stored.\n`);
          return 0;
        }
        if (sub === 'list') {
          console.table(await wh.all(`SELECT token_id, name, role, agencies, strftime(created_at, '%Y-%m-%d') AS created, revoked_at IS NOT NULL AS revoked FROM api_tokens ORDER BY created_at`));
          return 0;
        }
        if (sub === 'revoke' && id) {
          if (!(await revokeToken(wh, id))) throw new UsageError(`no active token ${id}`);
          process.stdout.write(`revoked ${id}\n`);
          return 0;
        }
        throw new UsageError('usage: civic token create --role R [--name N] [--agency A…] | token list | token revoke <id>');
      });
    }
    case 'trends':
    case 'hotspots':
    case 'equity': {
      return withWarehouse(config, async (wh) => {
        const weeks = Number(values.weeks ?? (command === 'equity' ? 12 : 52));
        const w = await resolveWindow(wh, { from: values.from, to: values.to, as_of: values['as-of'], weeks }, config.timezone);
        if (command === 'trends') {
          const by = (values.by ?? 'service').split(',');
          if (!by.every((b) => b === 'service' || b === 'area')) throw new UsageError('--by: service, area or service,area');
          const r = await computeFindings(wh, { ...w, by: by as ('service' | 'area')[], period: values.period === 'day' ? 'day' : 'week', service: values.service });
          if (values.json) process.stdout.write(JSON.stringify({ ...w, ...r }, null, 2) + '\n');
          else {
            process.stdout.write(`Findings for ${w.from} to ${w.to} (${r.series_tested} series tested)\n`);
            for (const f of [...r.trends, ...r.anomalies]) process.stdout.write(`  • ${f.sentence}\n`);
            if (r.trends.length + r.anomalies.length === 0) process.stdout.write('  no trend or anomaly beyond chance\n');
          }
        } else if (command === 'hotspots') {
          const r = await computeHotspots(wh, { resolution: Number(values.resolution ?? 8), k: Number(values.k ?? 1), from: w.from, to: w.to, timezone: config.timezone, service: values.service, fdr: true });
          if (values.json) process.stdout.write(JSON.stringify(hotspotsGeoJson(r)) + '\n');
          else {
            const hot = r.cells.filter((c) => c.bin !== 0).sort((a, b) => b.bin - a.bin || (b.z ?? 0) - (a.z ?? 0));
            process.stdout.write(`Hot and cold spots, ${w.from} to ${w.to}: ${r.cells.length} cells at resolution ${r.options.resolution}, ${hot.length} significant (FDR)\n`);
            console.table(hot.slice(0, 25).map((c) => ({ h3: c.h3, count: c.count, z: c.z === null ? null : +c.z.toFixed(2), bin: c.bin, cluster: c.cluster })));
          }
        } else {
          const r = await computeEquity(wh, { ...w, service: values.service });
          if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          else {
            process.stdout.write(`${r.sentence}\n`);
            console.table(r.areas.map((a) => ({ area: a.area, cases: a.cases, 'median h': a.median_hours_to_close, 'on-time %': a.on_time_rate === null ? null : +(a.on_time_rate * 100).toFixed(1), 'CSAT top-2 %': a.csat_top2 === null ? null : +(a.csat_top2 * 100).toFixed(1) })));
          }
        }
        return 0;
      });
    }
    case 'report': {
      const [sub, id] = args;
      if (sub !== 'run' || !id) throw new UsageError('usage: civic report run <id> [--out DIR]');
      return withWarehouse(config, async (wh) => {
        const run = await runReport(wh, id, { jurisdiction: config.jurisdiction, timezone: config.timezone, as_of: values['as-of'] }, values.out ?? config.reports.out_dir);
        process.stdout.write(`${run.title}\n${run.files.map((f) => `  wrote ${f}`).join('\n')}\n`);
        return 0;
      });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    // parseArgs throws TypeError (ERR_PARSE_ARGS_*) for an unknown option: a usage error too.
    const usage = err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`civic: ${err.message}\n${usage ? `\n${USAGE}` : ''}`);
    if (!(err instanceof CivicError) && !usage) process.stderr.write(`${err.stack ?? ''}\n`);
    process.exitCode = usage ? 2 : err instanceof CivicError ? err.exitCode : 1;
  },
);
