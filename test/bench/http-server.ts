// The server the HTTP bench loads, alone in its own process so the load generator does not share
// its event loop:
//
//   node --import tsx test/bench/http-server.ts <warehouse.duckdb> <work dir>
//
// Starts the product server (api/server.ts startServer, port 0, the built dashboard) on the
// warehouse and, beside it in the same process, a bare Fastify instance with the same options and
// the same security plugin (headers, limits) and one route that returns a constant: this machine's
// HTTP limit with our per-request work, the yardstick for the product's routes. Prints one JSON
// line ({ url, constant_url, event_loop_url, pid }) once both listen; closes both on SIGTERM or SIGINT.
//
// The bare instance also reports this process's event-loop delay (perf_hooks, sampled every
// 10 ms as test/api/load.test.ts does): GET /event-loop for the delay since the last
// DELETE /event-loop. A slow health check is either the event loop (JavaScript blocking the
// process) or a wait for DuckDB; only this process can tell which. It lives on the bare instance
// because that one is the bench's, not the product's.
import Fastify from 'fastify';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FASTIFY_OPTIONS } from '../../api/app.ts';
import { parseConfig } from '../../api/config.ts';
import security from '../../api/plugins/security.ts';
import { startServer } from '../../api/server.ts';

const [database, dir] = process.argv.slice(2);
if (!database || !dir) {
  console.error('usage: http-server.ts <warehouse.duckdb> <work dir>');
  process.exit(2);
}

const config = parseConfig({
  port: 0,
  database,
  seed_demo_when_empty: false,
  reports: { out_dir: join(dir, 'reports'), schedules: [] },
  ingest: { inbox_dir: null },
  // One address sends everything here: the public API's per-address limit would answer 429s.
  limits: { public_per_minute: 1_000_000_000 },
});
const server = await startServer(config, { logger: false });

const bare = Fastify({ logger: false, ...FASTIFY_OPTIONS });
await bare.register(security, { limits: config.limits });
bare.get('/constant', async () => ({ ok: true }));
const SAMPLE_MS = 10;
const delay = monitorEventLoopDelay({ resolution: SAMPLE_MS });
delay.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;
bare.get('/event-loop', async () => ({
  sample_ms: SAMPLE_MS,
  samples: delay.count,
  p50_ms: ms(delay.percentile(50)),
  p99_ms: ms(delay.percentile(99)),
  max_ms: ms(delay.max),
}));
bare.delete('/event-loop', async () => {
  delay.reset();
  return { ok: true };
});
await bare.listen({ port: 0, host: '127.0.0.1' });
const a = bare.server.address() as { port: number };

const stop = async () => {
  delay.disable();
  await bare.close();
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
console.log(JSON.stringify({ url: server.url, constant_url: `http://127.0.0.1:${a.port}/constant`, event_loop_url: `http://127.0.0.1:${a.port}/event-loop`, pid: process.pid }));
