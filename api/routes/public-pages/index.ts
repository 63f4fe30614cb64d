// The public transparency pages (/public…) and the public embeds (/embed/<view>): HTML written
// on the server from the one protected release, readable without JavaScript, answered without a
// token. Bad input gets a plain page saying what was wrong, not JSON.
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validationMessage } from '../../validation-message.ts';
import { DEFAULT_POLICY, type DisclosurePolicy } from '../../../warehouse/privacy/policy.ts';
import type { TargetsConfig } from '../../../warehouse/analytics/targets.ts';
import { html, type SafeHtml } from '../../public-site/html.ts';
import { embedPage, page, PUBLIC_ICON } from '../../public-site/layout.ts';
import { areaBody, areasSection, asOfLine, headlineSection, homeBody, methodologyBody, notFoundBody, openDataBody, servicesSection, trendSection, type MapMeasure } from '../../public-site/pages.ts';
import { methodologyView, publicView, type PublicView } from '../../public-site/public-view.ts';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { computeOverview } from '../../../warehouse/analytics/overview.ts';
import { verifyEmbedToken } from '../../embed-token.ts';
import { staffOverviewBody, STAFF_EMBED_VIEWS } from '../../public-site/staff-view.ts';
import { dayLabel } from '../../public-site/format.ts';
import { computeAhead } from '../../compute-ahead.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';
import { AreaQuery, EMBED_VIEWS, EmbedParams, EmbedQuery, HomeQuery, NoQuery, pageSchema, type AreaQueryString, type EmbedQueryString, type EmbedView, type HomeQueryString } from './schema.ts';

export interface PublicPagesOptions {
  disclosure?: Partial<DisclosurePolicy>;
  targets?: TargetsConfig;
  /** Verifies staff embed tokens (api/embed-token.ts); without it no staff view can be embedded. */
  embedKey?: Buffer;
  minDenominator?: number;
}

const STYLE = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public-site', 'style.css'), 'utf8');
// The dashboard's icon, served under /public so the public site links nothing outside it (and
// does not need the dashboard built).
const ICON = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dashboard', 'static', 'favicon.svg'), 'utf8');

const publicPages: FastifyPluginAsync<PublicPagesOptions> = async (fastify, opts) => {
  const policy: DisclosurePolicy = { ...DEFAULT_POLICY, ...opts.disclosure };

  const view = async () => {
    const j = await fastify.jurisdiction();
    return publicView(fastify.warehouse, { policy, targets: opts.targets, jurisdiction: { name: j.name, timezone: j.timezone } });
  };
  const send = (reply: FastifyReply, body: SafeHtml, status = 200) => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(body.value);

  // Pages answer in HTML, errors too: a reader who mistyped a link gets a page that says so.
  fastify.setErrorHandler(async (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'public page failed');
    const message = status >= 500 ? `Something went wrong on our side (request ${request.id}); please try again later.` : err.validation ? validationMessage(err.validationContext ?? 'querystring', err.validation, request.query, {}) : err.message;
    const j = await fastify.jurisdiction().catch(() => ({ name: 'City' }));
    return send(reply, page({ title: status === 404 ? 'Not found' : 'Cannot show this page', jurisdiction: j.name, path: '', asOf: null, body: html`<h1>${status >= 500 ? 'Cannot show this page' : 'This link is not right'}</h1><p>${message}</p><p><a href="/public">Go to the overview</a></p>` }), status);
  });

  fastify.get(PUBLIC_ICON, { schema: { hide: true } }, async (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=300').send(ICON));
  fastify.get('/public/style.css', { schema: { hide: true } }, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLE));

  // A public page is the same for every visitor until the data changes, and its charts and map
  // are drawn on the server (Vega to SVG, the areas' outlines simplified): on LA's 99
  // neighbourhood councils that held the event loop 80–120 ms on every visit. Each page's body is
  // drawn once per data version (the policy and targets are the server's, fixed while it runs),
  // from the view read inside the kept computation, and kept with it: the page's frame (its as-of
  // line) comes from the same view, and a batch landing meanwhile cannot file an older view's
  // page under the newer data (memoByData reads the data version before the view is read).
  // Weighed by size: a body with a map is tens to hundreds of kilobytes.
  const drawn = <T extends SafeHtml | null>(what: string, draw: (v: PublicView) => Promise<T>) =>
    memoByData(fastify.warehouse, memoKey('public-page', what, policy, opts.targets ?? null), async () => {
      const v = await view();
      return { v, body: await draw(v) };
    }, (p) => 1 + Math.ceil((p.body?.value.length ?? 0) / 1000));
  const homePage = (measure: MapMeasure) => drawn(`home:${measure}`, (v) => homeBody(v, measure));

  fastify.get<{ Querystring: HomeQueryString }>('/public', { schema: pageSchema('The public overview: requests, time to close and on time by service group and area, with their trends and a map', HomeQuery) }, async (request, reply) => {
    const { v, body } = await homePage((request.query.map ?? 'opened') as MapMeasure);
    return send(reply, page({ title: 'Overview', jurisdiction: v.jurisdiction, path: '/public', asOf: asOfLine(v), body }));
  });

  fastify.get<{ Querystring: AreaQueryString }>('/public/area', { schema: pageSchema("One area's figures beside the whole city's, by period", AreaQuery) }, async (request, reply) => {
    const area = request.query.area;
    const notFound = (v: PublicView) => send(reply, page({ title: 'Not found', jurisdiction: v.jurisdiction, path: '', asOf: asOfLine(v), body: notFoundBody(`There is no page for an area named “${area}”.`, v) }), 404);
    // Only a name the data knows is kept (any text can be asked for).
    const known = await view();
    if (!known.areaNames.includes(area)) return notFound(known);
    const { v, body } = await drawn(`area:${area}`, async (v) => (v.areaNames.includes(area) ? areaBody(v, area) : null));
    if (!body) return notFound(v);
    return send(reply, page({ title: area, jurisdiction: v.jurisdiction, path: '/public/area', asOf: asOfLine(v), body }));
  });

  fastify.get('/public/methodology', { schema: pageSchema('How every public figure is defined and protected, the data sources and known quality issues (from the measure registry and the disclosure policy)', NoQuery) }, async (_request, reply) => {
    const j = await fastify.jurisdiction();
    const m = await methodologyView(fastify.warehouse, { policy, jurisdiction: { name: j.name, timezone: j.timezone } });
    return send(reply, page({ title: 'Methodology', jurisdiction: j.name, path: '/public/methodology', asOf: asOfLine(m), body: methodologyBody(m) }));
  });

  fastify.get('/public/open-data', { schema: pageSchema('Open data: every public table as CSV, and the Open311 API', NoQuery) }, async (_request, reply) => {
    const j = await fastify.jurisdiction();
    const m = await methodologyView(fastify.warehouse, { policy, jurisdiction: { name: j.name, timezone: j.timezone } });
    return send(reply, page({ title: 'Open data', jurisdiction: j.name, path: '/public/open-data', asOf: asOfLine(m), body: openDataBody({ release: m.release, jurisdiction: j.name }) }));
  });

  const EMBED_TITLES: Record<EmbedView, string> = { headline: 'At a glance', trend: 'Requests over time', services: 'On time by service', areas: 'By area', map: 'Map of areas' };
  const embedSection = async (v: PublicView, name: EmbedView, mapMeasure: MapMeasure): Promise<SafeHtml> => {
    switch (name) {
      case 'headline':
        return headlineSection(v);
      case 'trend':
        return trendSection(v);
      case 'services':
        return servicesSection(v);
      case 'areas':
      case 'map':
        return areasSection(v, mapMeasure, { links: false });
    }
  };

  const REFUSED: Record<string, string> = {
    malformed: 'Its link is incomplete or damaged.',
    signature: 'Its link has been changed since it was issued, so it is not valid.',
    view: 'Its link was issued for another view.',
    missing: 'This view is for city staff: it needs the signed link a manager issues for it.',
  };
  /** A staff view, only with a valid signed token; its figures are the token's scope's. */
  const staffEmbed = async (name: string, token: string | undefined, reply: FastifyReply) => {
    const j = await fastify.jurisdiction();
    const refuse = (text: string) =>
      send(reply.header('cache-control', 'no-store'), embedPage({ title: 'Cannot show this view', jurisdiction: j.name, path: '', asOf: null, source: '/public', body: html`<h1>This view cannot be shown</h1><p>${text}</p><p>Ask whoever put it on this page for a new link.</p>` }), 403);
    if (!opts.embedKey || !token) return refuse(REFUSED.missing);
    const check = verifyEmbedToken(token, name, opts.embedKey);
    if (!check.ok) return refuse(check.reason === 'expired' ? `Its link expired${check.expired_at ? ` on ${dayLabel(check.expired_at.slice(0, 10))}` : ''}.` : REFUSED[check.reason]);
    const p = check.claims.params;
    const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
    const window = await resolveWindow(fastify.warehouse, { weeks: Number(p.weeks) || 12 }, j.timezone);
    const filter = { service: str('service'), service_group: str('service_group'), agency: str('agency'), channel: str('channel'), area: str('area') };
    for (const k of Object.keys(filter) as (keyof typeof filter)[]) if (filter[k] === undefined) delete filter[k];
    const o = await computeOverview(fastify.warehouse, window, filter, { area_kind: str('area_kind'), scope: { agencies: check.claims.agencies }, targets: opts.targets, min_denominator: opts.minDenominator });
    // A staff view is for the frame it was issued for: never cached by a browser or proxy.
    reply.header('cache-control', 'private, no-store');
    return reply.code(200).type('text/html; charset=utf-8').send(embedPage({ title: 'Service performance', jurisdiction: j.name, path: '', asOf: null, source: '/public', body: staffOverviewBody(o, check.claims.agencies) }).value);
  };

  fastify.get<{ Params: { view: string }; Querystring: EmbedQueryString }>(
    '/embed/:view',
    { schema: { ...pageSchema(`A view for a city's own site to show in a frame. Public views (no token): ${EMBED_VIEWS.join(', ')}. Staff views (a signed token from POST /api/embed-tokens): ${STAFF_EMBED_VIEWS.join(', ')}`, EmbedQuery), params: EmbedParams } },
    async (request, reply) => {
      const name = request.params.view;
      if ((STAFF_EMBED_VIEWS as readonly string[]).includes(name)) return staffEmbed(name, request.query.token, reply);
      if (!(EMBED_VIEWS as readonly string[]).includes(name)) {
        const j = await fastify.jurisdiction();
        return send(reply, page({ title: 'Not found', jurisdiction: j.name, path: '', asOf: null, body: html`<h1>No such view</h1><p>There is no embeddable view named “${name}”. The public views are: ${EMBED_VIEWS.join(', ')}.</p>` }), 404);
      }
      // The map measure matters to the map views only: the others are kept once.
      const measure = (name === 'areas' || name === 'map' ? (request.query.map ?? 'opened') : 'opened') as MapMeasure;
      const { v, body } = await drawn(`embed:${name}:${measure}`, (v) => embedSection(v, name as EmbedView, measure));
      return send(reply, embedPage({ title: EMBED_TITLES[name as EmbedView], jurisdiction: v.jurisdiction, path: '', asOf: asOfLine(v), body, source: '/public' }));
    },
  );

  // The release behind every public page takes seconds to protect on a city's data; compute it
  // once the server listens, and again after every batch it loads, so the first resident does not
  // wait (it is kept per data version).
  computeAhead(fastify, 'public release and home page', () => homePage('opened'));

  // Anything else under /public is a page that does not exist: say so in a page, not the staff app.
  fastify.get('/public/*', { schema: { hide: true } }, async (request, reply) => {
    const v = await view();
    return send(reply, page({ title: 'Not found', jurisdiction: v.jurisdiction, path: '', asOf: asOfLine(v), body: notFoundBody(`There is no public page at ${request.url.split('?')[0]}.`, null) }), 404);
  });
};

export default publicPages;
