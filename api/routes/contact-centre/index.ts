import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { computeContactCentre, contactDimensions, parseContactDimensions } from '../../../warehouse/analytics/contact-centre.ts';
import { resolveWindow } from '../../../warehouse/analytics/window.ts';
import { memoByData, memoKey } from '../../../warehouse/analytics/memo.ts';
import { CONTACT_MEASURES } from '../../../warehouse/queries/contact-measures.ts';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows, sendJsonRows } from '../../stream-rows.ts';
import { ErrorResponse } from '../../schemas/common.ts';
import { contactCentreRouteSchema, ContactDimensionsResponse, type ContactCentreQueryString } from './schema.ts';

const contactCentre: FastifyPluginAsync = async (fastify) => {
  fastify.get<{ Querystring: ContactCentreQueryString }>('/api/contact-centre', { schema: contactCentreRouteSchema, config: { access: 'staff' } }, async (request, reply) => {
    const q = request.query;
    const by = parseContactDimensions(q.by, 'by');
    const window = await resolveWindow(fastify.warehouse, q, (await fastify.jurisdiction()).timezone);
    const o = { window, by, channel: q.channel, team: q.team, agency: q.agency, target_wait_seconds: q.target_wait, scope: scopeOf(request) };
    const result = await memoByData(fastify.warehouse, memoKey('contact-centre', o), () => computeContactCentre(fastify.warehouse, o), (r) => r.rows.length);
    if (q.format === 'csv') {
      return sendCsvRows(request, reply, `contact-centre-${window.from}-${window.to}.csv`, result.rows as unknown as Record<string, unknown>[], [...by, ...CONTACT_MEASURES.map((m) => m.name)]);
    }
    const { rows, ...envelope } = result;
    return sendJsonRows(request, reply, envelope, rows);
  });

  fastify.get(
    '/api/contact-centre/dimensions',
    {
      schema: {
        summary: 'The channels and teams of the queued contacts the caller may see (for building filters), with how many were offered in all',
        tags: ['analytics'],
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: ContactDimensionsResponse, 400: ErrorResponse },
      },
      config: { access: 'staff' },
    },
    async (request) => {
      const scope = scopeOf(request);
      return memoByData(fastify.warehouse, memoKey('contact-centre-dimensions', scope), () => contactDimensions(fastify.warehouse, scope));
    },
  );
};

export default contactCentre;
