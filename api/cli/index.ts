// `civic` — the command line. This file reads only the command's name, prints the usage, and
// imports the one module the command needs (api/cli/commands/<name>.ts): loading every layer up
// front made even `civic --help` take seconds. Keep its imports light.
import { CivicError } from '../../warehouse/errors.ts';
import { UsageError, type Command } from './args.ts';

const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  serve: () => import('./commands/serve.ts'),
  ingest: () => import('./commands/ingest.ts'),
  areas: () => import('./commands/areas.ts'),
  calendars: () => import('./commands/calendars.ts'),
  rejects: () => import('./commands/rejects.ts'),
  demo: () => import('./commands/demo.ts'),
  kpis: () => import('./commands/kpis.ts'),
  trends: () => import('./commands/trends.ts'),
  hotspots: () => import('./commands/hotspots.ts'),
  equity: () => import('./commands/equity.ts'),
  repeats: () => import('./commands/repeats.ts'),
  'repeat-locations': () => import('./commands/repeats.ts'),
  forecast: () => import('./commands/forecast.ts'),
  whatif: () => import('./commands/whatif.ts'),
  token: () => import('./commands/token.ts'),
  audit: () => import('./commands/audit.ts'),
  report: () => import('./commands/report.ts'),
};

export const USAGE = `Usage: civic <command> [options]

Commands:
  serve                                 start the API, dashboard and report scheduler
  ingest <files…> --profile <P> [--timezone Z] [--jurisdiction NAME] [--progress]
                                        load exports (CSV, NDJSON, JSON, Open311 XML, Arrow);
                                        P: a built-in profile or a path to a JSON profile
  areas <file.geojson> --kind K --id-property P --name-property P [--population-property P]
                                        load area polygons (districts, neighbourhoods) and place the cases in them
  calendars <calendars.json>            business hours and holidays for SLAs counted in working hours
  rejects <batch_id> [--json|--csv] [--limit N] [--offset N]
                                        the rows a batch did not load, and why
  demo [--seed N] [--out manifest.json] load the demo city (and write what it planted)
  kpis [--by service,week] [--json|--csv]   KPIs; no --by: one overall row
                                        by: service, service_group, agency, channel, area, day, week, month, quarter
  trends [--by service,area] [--period week|day] [--json]
  hotspots [--resolution 8] [--k 1] [--json [--all]]
                                        Gi* hot and cold cells named by their area, with the period,
                                        resolution, k and alpha (GeoJSON with --json; --all: every cell)
  equity [--min-cases 20] [--sort median_hours_to_close|on_time_rate|csat_top2] [--json|--csv]
                                        areas of one kind compared, with 95% intervals, worst first
  repeats [--days 30] [--resolution 10|11] [--limit 25] [--json|--csv|--geojson]
                                        places where a service was requested again within N days
                                        of a close (also: repeat-locations)
  forecast [--by service,area] [--horizon 4] [--json|--csv]
                                        weekly demand 1–8 weeks ahead with 80%/95% intervals, judged by backtests
  whatif --service S [--move FROM:TO:N[,…]] [--crews AREA:N,…] [--horizon 4] [--json|--csv]
                                        projected backlog and on time if crews move between areas (26 weeks fitted)
    every analysis also takes: --from D --to D (local days) --weeks N --as-of T
      --service S --service-group G --agency A --channel C --area A --area-kind K
  token create --role R [--name N] [--agency A]… [--expires-in 30d|12h|never | --expires DATE]
                                        an API token (printed once; stored hashed; 90 days by default)
  token list [--json|--csv] | token revoke <id>
  audit [--since D] [--until D] [--principal P] [--route R] [--limit N] [--json|--csv]
                                        who read staff data (principal, route, parameters, rows, time)
  report run <id> [--out DIR] [--as-of T]   run a report now: built, delivered to its recipients (or only
                                        to --out DIR) and recorded (e.g. weekly-summary)
  report list                           every report definition with its next three run times

token, rejects and audit work while the server runs: they go through it, with the credential it
writes beside the database (<database>.server.json).

Options for every command:
  --database <path>   warehouse file (default from civic.config.json / CIVIC_DATABASE, else ./data/civic.duckdb)
  -h, --help          this text
`;

/** The command's name: the first argument that is neither an option nor the value of --database. */
function splitCommand(argv: string[]): { command: string | undefined; rest: string[]; help: boolean } {
  let index = -1;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i] === '--database') i++;
    else if (!argv[i].startsWith('-')) {
      index = i;
      break;
    }
  }
  const help = argv.some((a) => a === '--help' || a === '-h');
  return { command: index < 0 ? undefined : argv[index], rest: argv.filter((_, i) => i !== index), help };
}

async function main(argv: string[]): Promise<number> {
  const { command, rest, help } = splitCommand(argv);
  if (!command || help) {
    process.stdout.write(USAGE);
    return help ? 0 : 2;
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) throw new UsageError(`unknown command "${command}"`);
  const { run } = await load();
  return run(rest);
}

// `civic kpis | head`: the reader closing the pipe early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    // parseArgs throws TypeError (ERR_PARSE_ARGS_*) for an unknown option: a usage error too.
    const usage = err instanceof UsageError || Boolean((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`civic: ${err.message}\n${usage ? `\n${USAGE}` : ''}`);
    if (!(err instanceof CivicError) && !usage) process.stderr.write(`${err.stack ?? ''}\n`);
    // Exit now: a command that failed half-way (a server that could not listen) must not linger.
    process.exit(usage ? 2 : err instanceof CivicError ? err.exitCode : 1);
  },
);
