// A page that is not there is the visitor's mistake, shown by +error.svelte: not logged as an
// error of ours in their console (SvelteKit's default does). Anything else still is.
import type { HandleClientError } from '@sveltejs/kit';

export const handleError: HandleClientError = ({ error, status, message }) => {
  if (status !== 404) console.error(error);
  return { message };
};
