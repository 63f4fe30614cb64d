// The warehouse as a decorated plugin: routes reach DuckDB only through `fastify.warehouse`
// (reads, on a small pool of connections with a time limit and a row cap per query: see
// warehouse/db.ts `readers`) and `fastify.ingest` (serialized writes on their own connection);
// all are closed when the app closes, the writer first.
import fp from 'fastify-plugin';
import type { Warehouse } from '../../warehouse/db.ts';
import type { Config } from '../config.ts';
import { IngestService } from '../ingest-service.ts';
import { keepDataVersion } from '../../warehouse/analytics/dimensions.ts';
import { keepCredentialChecks } from '../../warehouse/access/kept-checks.ts';

declare module 'fastify' {
  interface FastifyInstance {
    warehouse: Warehouse;
    ingest: IngestService;
  }
}

export type ReadLimitsConfig = Partial<Pick<Config['limits'], 'read_connections' | 'query_timeout_seconds' | 'max_rows' | 'max_query_rows' | 'max_cells'>>;

export default fp<{ warehouse: Warehouse; limits?: ReadLimitsConfig }>(
  async (fastify, opts) => {
    const l = opts.limits ?? {};
    const readers = await opts.warehouse.readers({
      connections: l.read_connections,
      timeoutMs: l.query_timeout_seconds === undefined ? undefined : l.query_timeout_seconds * 1000,
      maxRows: l.max_rows,
      maxQueryRows: l.max_query_rows,
      maxCells: l.max_cells,
    });
    let ingest: IngestService;
    try {
      ingest = await IngestService.create(opts.warehouse);
    } catch (err) {
      readers.close();
      throw err;
    }
    // The server is the warehouse's only writer (DuckDB's lock) and loads only through `ingest`:
    // its data version is read once per batch, not twice per request.
    ingest.onSettled(keepDataVersion(readers));
    // …and of its tokens and sessions: a good credential check is kept a few seconds, dropped at
    // once when a token is revoked or a session ends (warehouse/access/kept-checks.ts).
    keepCredentialChecks(readers);
    fastify.decorate('warehouse', readers);
    fastify.decorate('ingest', ingest);
    fastify.addHook('onClose', async () => {
      await ingest.close();
      readers.close();
      opts.warehouse.close();
    });
  },
  { name: 'warehouse' },
);
