// The public transparency pages (/public…) and the public embeds (/embed/<view>): HTML written
// on the server from the one protected release, readable without JavaScript, answered without a
// token. Bad input gets a plain page saying what was wrong, not JSON.
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CivicError } from '../../../warehouse/errors.ts';
import { DEFAULT_POLICY, type DisclosurePolicy } from '../../../warehouse/privacy/policy.ts';
import type { TargetsConfig } from '../../../warehouse/analytics/targets.ts';
import { html, type SafeHtml } from '../../public-site/html.ts';
import { embedPage, page } from '../../public-site/layout.ts';
import { areaBody, areasSection, asOfLine, headlineSection, homeBody, methodologyBody, notFoundBody, openDataBody, servicesSection, trendSection, type MapMeasure } from '../../public-site/pages.ts';
import { methodologyView, publicView, type PublicView } from '../../public-site/public-view.ts';
import { AreaQuery, EMBED_VIEWS, EmbedParams, EmbedQuery, HomeQuery, NoQuery, pageSchema, type AreaQueryString, type EmbedQueryString, type EmbedView, type HomeQueryString } from './schema.ts';

export interface PublicPagesOptions {
  disclosure?: Partial<DisclosurePolicy>;
  targets?: TargetsConfig;
}

const STYLE = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public-site', 'style.css'), 'utf8');

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
    const message = status >= 500 ? `Something went wrong on our side (request ${request.id}); please try again later.` : err instanceof CivicError || err.validation ? err.message : err.message;
    const j = await fastify.jurisdiction().catch(() => ({ name: 'City' }));
    return send(reply, page({ title: status === 404 ? 'Not found' : 'Cannot show this page', jurisdiction: j.name, path: '', asOf: null, body: html`<h1>${status >= 500 ? 'Cannot show this page' : 'This link is not right'}</h1><p>${message}</p><p><a href="/public">Go to the overview</a></p>` }), status);
  });

  fastify.get('/public/style.css', { schema: { hide: true } }, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLE));

  fastify.get<{ Querystring: HomeQueryString }>('/public', { schema: pageSchema('The public overview: requests, time to close and on time by service group and area, with their trends and a map', HomeQuery) }, async (request, reply) => {
    const v = await view();
    const body = await homeBody(v, (request.query.map ?? 'opened') as MapMeasure);
    return send(reply, page({ title: 'Overview', jurisdiction: v.jurisdiction, path: '/public', asOf: asOfLine(v), body }));
  });

  fastify.get<{ Querystring: AreaQueryString }>('/public/area', { schema: pageSchema("One area's figures beside the whole city's, by period", AreaQuery) }, async (request, reply) => {
    const v = await view();
    const area = request.query.area;
    if (!v.areaNames.includes(area)) {
      return send(reply, page({ title: 'Not found', jurisdiction: v.jurisdiction, path: '', asOf: asOfLine(v), body: notFoundBody(`There is no page for an area named “${area}”.`, v) }), 404);
    }
    return send(reply, page({ title: area, jurisdiction: v.jurisdiction, path: '/public/area', asOf: asOfLine(v), body: await areaBody(v, area) }));
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

  fastify.get<{ Params: { view: string }; Querystring: EmbedQueryString }>(
    '/embed/:view',
    { schema: { ...pageSchema(`A public view for a city's own site to show in a frame: ${EMBED_VIEWS.join(', ')}`, EmbedQuery), params: EmbedParams } },
    async (request, reply) => {
      const name = request.params.view;
      if (!(EMBED_VIEWS as readonly string[]).includes(name)) {
        const j = await fastify.jurisdiction();
        return send(reply, page({ title: 'Not found', jurisdiction: j.name, path: '', asOf: null, body: html`<h1>No such view</h1><p>There is no embeddable view named “${name}”. The public views are: ${EMBED_VIEWS.join(', ')}.</p>` }), 404);
      }
      const v = await view();
      const body = await embedSection(v, name as EmbedView, (request.query.map ?? 'opened') as MapMeasure);
      return send(reply, embedPage({ title: EMBED_TITLES[name as EmbedView], jurisdiction: v.jurisdiction, path: '', asOf: asOfLine(v), body, source: '/public' }));
    },
  );
};

export default publicPages;
