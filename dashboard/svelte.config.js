import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** A static build served by the API process (api/app.ts); pages fetch /api/* from the same origin. */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: '200.html', strict: true }),
    typescript: {
      config: (c) => ({ ...c, compilerOptions: { ...c.compilerOptions, allowImportingTsExtensions: true } }),
    },
  },
};
