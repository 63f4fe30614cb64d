// The warehouse as a decorated plugin: routes reach DuckDB only through `fastify.warehouse`
// (reads) and `fastify.ingest` (serialized writes on their own connection); both are closed
// when the app closes, the writer first.
import fp from 'fastify-plugin';
import type { Warehouse } from '../../warehouse/db.ts';
import { IngestService } from '../ingest-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    warehouse: Warehouse;
    ingest: IngestService;
  }
}

export default fp<{ warehouse: Warehouse }>(
  async (fastify, opts) => {
    const ingest = await IngestService.create(opts.warehouse);
    fastify.decorate('warehouse', opts.warehouse);
    fastify.decorate('ingest', ingest);
    fastify.addHook('onClose', async () => {
      await ingest.close();
      opts.warehouse.close();
    });
  },
  { name: 'warehouse' },
);
