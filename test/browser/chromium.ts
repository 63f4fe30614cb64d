// How the browser tests start Debian's Chromium (see ../shared/STACK.md): headless, no sandbox
// (the CI container runs as root), nothing fetched from the network.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const CHROMIUM_PATH = '/usr/bin/chromium';
