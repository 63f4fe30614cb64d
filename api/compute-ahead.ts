// Answers computed before anyone asks: once the server listens, and again after every batch it
// loads (api/ingest-service.ts onLanded). What they compute is kept by the memo of the data
// version (warehouse/analytics/memo.ts), so the first visitor reads it from memory.
import type { FastifyInstance } from 'fastify';

/**
 * Runs `compute` in the background when the server starts listening and after each load, logging
 * "<what> computed ahead of the first visit …" or a warning. One run at a time: loads that land
 * while one runs (an inbox of many files) make one more run after it, not one each — each would
 * be stale at the next commit, and all would take the read connections visitors need. Only a
 * server that listens, until it starts closing: an app driven by inject (the tests) computes
 * nothing unasked.
 */
export function computeAhead(fastify: FastifyInstance, what: string, compute: () => Promise<unknown>): void {
  let listening = false;
  let running: Promise<void> | null = null;
  let again: string | null = null;
  const run = (when: string) => {
    if (!listening) return;
    if (running) {
      again = when;
      return;
    }
    const started = Date.now();
    running = Promise.resolve()
      .then(compute)
      .then(() => fastify.log.info({ ms: Date.now() - started }, `${what} computed ahead of the first visit ${when}`))
      .catch((err: Error) => {
        if (listening) fastify.log.warn({ err: err.message }, `could not compute the ${what} ahead of time`);
      })
      .finally(() => {
        running = null;
        const next = again;
        again = null;
        if (next) run(next);
      });
  };
  fastify.addHook('onListen', async () => {
    listening = true;
    run('since the server started');
  });
  fastify.ingest.onLanded(() => run('after a load'));
  // A run in progress is left to finish or fail against the closing warehouse; none starts now.
  fastify.addHook('preClose', async () => {
    listening = false;
    again = null;
  });
}
