// The frame of every public page and embed: language, title, one stylesheet from this server,
// a skip link, the site's navigation, and the "data as of" line in the footer.
import { html, type SafeHtml } from './html.ts';

export const STYLESHEET = '/public/style.css';
export const PUBLIC_ICON = '/public/icon.svg';

export const NAV = [
  { href: '/public', label: 'Overview' },
  { href: '/public/methodology', label: 'Methodology' },
  { href: '/public/open-data', label: 'Open data' },
] as const;

export interface PageFrame {
  title: string;
  jurisdiction: string;
  /** The path of the page, to mark its navigation link as current. */
  path: string;
  /** "Data as of 16 November 2026 (America/New_York)". */
  asOf: string | null;
  body: SafeHtml;
}

/** The document's start: language, viewport, title, the one stylesheet, the dashboard's icon (without it a browser asks for /favicon.ico, a 404). */
const head = (f: Pick<PageFrame, 'title' | 'jurisdiction'>) => html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} — ${f.jurisdiction} 311</title>
<link rel="stylesheet" href="${STYLESHEET}">
<link rel="icon" href="${PUBLIC_ICON}" type="image/svg+xml">
</head>`;

export function page(f: PageFrame): SafeHtml {
  return html`${head(f)}
<body>
<a class="skip" href="#main">Skip to the figures</a>
<header class="site">
<p class="site-name"><a href="/public">${f.jurisdiction} — 311 performance</a></p>
<nav aria-label="Public pages"><ul>${NAV.map((n) => html`<li><a href="${n.href}"${f.path === n.href ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>
</header>
<main id="main">
${f.body}
</main>
<footer class="site">
${f.asOf ? html`<p>${f.asOf}.</p>` : ''}
<p>Published under disclosure control: small counts are withheld and no figure identifies a person (<a href="/public/methodology">methodology</a>). Open data: <a href="/public/open-data">CSV and the Open311 API</a>.</p>
</footer>
</body>
</html>
`;
}

/** An embed: the same section, no site chrome, a line saying where it comes from. */
export function embedPage(f: PageFrame & { source: string }): SafeHtml {
  return html`${head(f)}
<body class="embed">
<main id="main">
${f.body}
<p class="source">${f.asOf ? `${f.asOf}. ` : ''}Source: <a href="${f.source}" target="_blank" rel="noopener">${f.jurisdiction} 311 performance</a>.</p>
</main>
</body>
</html>
`;
}
