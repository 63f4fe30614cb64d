// Open311 GeoReport v2, read side (issue 13 item 4): GET /open311/v2/services.{json,xml},
// /open311/v2/requests.{json,xml} and /open311/v2/requests/{id}.{json,xml}. Public, answered with
// public fields only (warehouse/analytics/open311.ts decides them, for both formats at once).
//
// Everything under /open311/ speaks the spec's language, not the rest of the API's: errors are
// the spec's list of {code, description} (XML: <errors><error>…) with its status codes —
// validation errors, a bad parameter, an unknown request or path, the rate limit — so this
// plugin has its own error and not-found handlers (Fastify scopes both to this plugin). An empty
// parameter is the same as none (the spec's "Optional Arguments"), and a parameter sent twice is
// one comma list (the spec: "can be declared multiple times, comma delimited").
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { XMLBuilder } from 'fast-xml-parser';
import { CivicError } from '../../../warehouse/errors.ts';
import { DEFAULT_POLICY, type DisclosurePolicy } from '../../../warehouse/privacy/policy.ts';
import { open311Request, open311Requests, open311Services, type Open311Options, type Open311Request } from '../../../warehouse/analytics/open311.ts';
import { validationMessage } from '../../validation-message.ts';
import { requestSchema, requestsSchema, servicesSchema, type RequestQueryString, type RequestsQueryString } from './schema.ts';

export interface Open311RoutesOptions {
  /** The configuration's disclosure keys (sensitive_services is what matters here). */
  disclosure?: Partial<DisclosurePolicy>;
}

type Format = 'json' | 'xml';
const FORMATS: readonly Format[] = ['json', 'xml'];

const xml = new XMLBuilder({ format: true, indentBy: '  ' });
const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

/** The spec's XML for a list: a container of repeated elements; a request's trail likewise (<notes><note>…). */
function toXml(root: string, item: string, rows: readonly object[]): string {
  const items = rows.map((r) => {
    const notes = (r as Open311Request).notes;
    return notes ? { ...r, notes: { note: notes } } : r;
  });
  return XML_DECLARATION + xml.build({ [root]: { [item]: items } });
}

const formatOf = (request: FastifyRequest): Format => (request.url.split('?', 1)[0].endsWith('.xml') ? 'xml' : 'json');

function send(reply: FastifyReply, format: Format, status: number, root: string, item: string, rows: readonly object[]) {
  reply.code(status);
  if (format === 'xml') return reply.type('text/xml; charset=utf-8').send(toXml(root, item, rows));
  return reply.type('application/json; charset=utf-8').send(rows);
}

function sendErrors(reply: FastifyReply, format: Format, status: number, description: string) {
  return send(reply, format, status, 'errors', 'error', [{ code: status, description }]);
}

/** Joins a repeated parameter into one comma list and drops empty ones, before the schema sees them. */
async function normaliseQuery(request: FastifyRequest): Promise<void> {
  const q = request.query as Record<string, unknown>;
  for (const [k, v] of Object.entries(q)) {
    const value = Array.isArray(v) ? v.map(String).filter((x) => x.trim() !== '').join(',') : v;
    if (typeof value === 'string' && value.trim() === '') delete q[k];
    else q[k] = value;
  }
}

const v2: FastifyPluginAsync<Open311RoutesOptions> = async (fastify, opts) => {
  const policy: DisclosurePolicy = { ...DEFAULT_POLICY, ...opts.disclosure };
  const options = async (): Promise<Open311Options> => ({ policy, timezone: (await fastify.jurisdiction()).timezone });

  fastify.addHook('preValidation', normaliseQuery);
  // Civic apps read Open311 from the browser: public data, no credentials, so any origin may read it.
  fastify.addHook('onSend', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
  });

  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    const format = formatOf(request);
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status === 503 && err instanceof CivicError) {
      const retry = (err as CivicError & { retryAfterSeconds?: number }).retryAfterSeconds;
      if (retry) reply.header('retry-after', String(retry));
      return sendErrors(reply, format, 503, err.message);
    }
    if (status >= 500) {
      request.log.error({ err }, 'open311 request failed');
      return sendErrors(reply, format, status, `Something went wrong on our side (request ${request.id}).`);
    }
    if (err.validation) {
      const context = err.validationContext ?? 'querystring';
      const input = context === 'params' ? request.params : request.query;
      const schema = request.routeOptions.schema as Record<string, { properties?: Record<string, { description?: string }> }> | undefined;
      // "querystring/page_size must be <= 1000" reads as "page_size must be <= 1000": a client knows where its parameters are.
      const message = validationMessage(context, err.validation, input, schema?.[context]?.properties ?? {});
      return sendErrors(reply, format, 400, message.replace(/^(querystring|params)\//, ''));
    }
    return sendErrors(reply, format, status, err.message);
  });

  fastify.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0];
    return sendErrors(reply, formatOf(request), 404, `No resource ${request.method} ${path}: this endpoint has /open311/v2/services, /open311/v2/requests and /open311/v2/requests/{service_request_id}, each .json or .xml`);
  });

  for (const format of FORMATS) {
    fastify.get(`/v2/services.${format}`, { schema: servicesSchema(format), config: { access: 'public' } }, async (_request, reply) => {
      const services = await open311Services(fastify.warehouse, await options());
      return send(reply, format, 200, 'services', 'service', services);
    });

    fastify.get<{ Querystring: RequestsQueryString }>(`/v2/requests.${format}`, { schema: requestsSchema(format), config: { access: 'public' } }, async (request, reply) => {
      const requests = await open311Requests(fastify.warehouse, request.query, await options());
      return send(reply, format, 200, 'service_requests', 'request', requests);
    });

    fastify.get<{ Params: { service_request_id: string }; Querystring: RequestQueryString }>(
      `/v2/requests/:service_request_id.${format}`,
      { schema: requestSchema(format), config: { access: 'public' } },
      async (request, reply) => {
        const id = request.params.service_request_id;
        const found = await open311Request(fastify.warehouse, id, { ...(await options()), extensions: request.query.extensions });
        if (!found) return sendErrors(reply, format, 404, `No service request "${id}"`);
        return send(reply, format, 200, 'service_requests', 'request', [found]);
      },
    );
  }
};

/** Registered with its own prefix, so its error and not-found handlers cover /open311/ and nothing else. */
const open311: FastifyPluginAsync<Open311RoutesOptions> = async (fastify, opts) => {
  await fastify.register(v2, { ...opts, prefix: '/open311' });
};

export default open311;
