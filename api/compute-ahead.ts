// Answers computed before anyone asks: once the server listens, and again after every batch it
// loads (api/ingest-service.ts onLanded). What they compute is kept by the memo of the data
// version (warehouse/analytics/memo.ts), so the first visitor reads it from memory.
import type { FastifyInstance } from 'fastify';

/**
 * Runs `compute` in the background when the server starts listening and after each load, logging
 * "<what> computed ahead of the first visit …" or a warning. Only a server that listens: an app
 * driven by inject (the tests) computes nothing unasked.
 */
export function computeAhead(fastify: FastifyInstance, what: string, compute: () => Promise<unknown>): void {
  let listening = false;
  const run = (when: string) => {
    const started = Date.now();
    Promise.resolve()
      .then(compute)
      .then(() => fastify.log.info({ ms: Date.now() - started }, `${what} computed ahead of the first visit ${when}`))
      .catch((err: Error) => fastify.log.warn({ err: err.message }, `could not compute the ${what} ahead of time`));
  };
  fastify.addHook('onListen', async () => {
    listening = true;
    run('since the server started');
  });
  fastify.ingest.onLanded(() => {
    if (listening) run('after a load');
  });
}
