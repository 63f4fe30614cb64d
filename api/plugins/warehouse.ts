// The warehouse as a decorated plugin: routes reach DuckDB only through `fastify.warehouse`,
// and the connection is closed when the app closes.
import fp from 'fastify-plugin';
import type { Warehouse } from '../../warehouse/db.ts';

declare module 'fastify' {
  interface FastifyInstance {
    warehouse: Warehouse;
  }
}

export default fp<{ warehouse: Warehouse }>(
  async (fastify, opts) => {
    fastify.decorate('warehouse', opts.warehouse);
    fastify.addHook('onClose', async () => opts.warehouse.close());
  },
  { name: 'warehouse' },
);
