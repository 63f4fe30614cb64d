import { defineConfig } from 'vitest/config';

// Separate from the dashboard's Vite config so unit tests never load the SvelteKit plugin.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['{ingest,warehouse,api,reports,test,dashboard/src/lib}/**/*.test.ts'],
    exclude: ['node_modules/**', 'dashboard/.svelte-kit/**', 'test/bench/**'],
    env: { TZ: 'UTC' },
    // The demo city, seeded once per run; suites copy it (test/helpers.ts demoWarehouse).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each warehouse test opens its own DuckDB; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
