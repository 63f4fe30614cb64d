// The server the HTTP bench loads, alone in its own process so the load generator does not share
// its event loop:
//
//   node --import tsx test/bench/http-server.ts <warehouse.duckdb> <work dir>
//
// Starts the product server (api/server.ts startServer, port 0, the built dashboard) on the
// warehouse and, beside it in the same process, a bare Fastify instance with the same options and
// the same security plugin (headers, limits) and one route that returns a constant: this machine's
// HTTP limit with our per-request work, the yardstick for the product's routes. Prints one JSON
// line ({ url, constant_url, pid }) once both listen; closes both on SIGTERM or SIGINT.
import Fastify from 'fastify';
import { join } from 'node:path';
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
await bare.listen({ port: 0, host: '127.0.0.1' });
const a = bare.server.address() as { port: number };

const stop = async () => {
  await bare.close();
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
console.log(JSON.stringify({ url: server.url, constant_url: `http://127.0.0.1:${a.port}/constant`, pid: process.pid }));
