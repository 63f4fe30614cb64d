// A static single-page app: the shell is prerendered, data comes from /api at run time.
export const prerender = true;
export const ssr = false;
