// /api/alerts: a manager (or admin) subscribes to the dashboard's findings for a scope; the
// evaluator (reports/alerts.ts) sends each finding once. A subscription belongs to the token or
// identity that made it: others' read as no subscription (404), except to an admin.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { scopeOf } from '../../plugins/auth.ts';
import { sendCsvRows } from '../../stream-rows.ts';
import {
  ALERT_KINDS,
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  subscriptionEvents,
  type AlertSubscription,
} from '../../../warehouse/analytics/alerts.ts';
import {
  createRouteSchema,
  deleteRouteSchema,
  eventsRouteSchema,
  listRouteSchema,
  type AlertParamsType,
  type CreateAlertBodyType,
  type ListQueryType,
} from './schema.ts';

const SUBSCRIPTION_COLUMNS = ['subscription_id', 'owner_id', 'owner_name', 'owner_role', 'agencies', 'service', 'service_group', 'agency', 'area', 'area_kind', 'kinds', 'channel', 'target', 'created_at', 'last_evaluated_at', 'last_error', 'last_error_at'];
const EVENT_COLUMNS = ['event_id', 'finding_key', 'kind', 'status', 'sentence', 'link', 'data_as_of', 'first_seen_at', 'last_seen_at', 'sent_at', 'attempts', 'last_attempt_at', 'last_error', 'cleared_at'];

const flat = (s: AlertSubscription) => ({ ...s, ...s.filter, agencies: s.agencies?.join('; ') ?? null, kinds: s.kinds.join('; ') });

const alerts: FastifyPluginAsync = async (fastify) => {
  const managers = fastify.requireRole('admin', 'manager');
  const ownerOf = (request: FastifyRequest) => request.principal!;
  /** The subscription if the caller may see it (its owner, or an admin), else null. */
  const visible = async (request: FastifyRequest, id: string) => {
    const sub = await getSubscription(fastify.warehouse, id.toLowerCase());
    const p = ownerOf(request);
    return sub && (p.role === 'admin' || sub.owner_id === p.token_id) ? sub : null;
  };
  const notFound = (id: string) => ({ statusCode: 404, error: 'Not Found', message: `No alert subscription ${id} of yours (GET /api/alerts lists them)` });

  fastify.post<{ Body: CreateAlertBodyType }>('/api/alerts', { schema: createRouteSchema, preHandler: managers, config: { audit_body: true } }, async (request, reply) => {
    const b = request.body;
    const p = ownerOf(request);
    const created = await createSubscription(fastify.warehouse, {
      owner: { token_id: p.token_id, name: p.name, role: p.role, agencies: scopeOf(request).agencies ?? null },
      filter: { service: b.service, service_group: b.service_group, agency: b.agency, area: b.area },
      area_kind: b.area_kind,
      kinds: b.kinds ?? [...ALERT_KINDS],
      channel: b.channel.email !== undefined ? { email: b.channel.email } : { webhook: b.channel.webhook! },
      timezone: (await fastify.jurisdiction()).timezone,
    });
    request.log.info({ subscription_id: created.subscription.subscription_id, by: p.token_id }, 'alert subscription created');
    return reply.code(201).send({ ...created.subscription, webhook_secret: created.webhook_secret });
  });

  fastify.get<{ Querystring: ListQueryType }>('/api/alerts', { schema: listRouteSchema, preHandler: managers }, async (request, reply) => {
    const p = ownerOf(request);
    const rows = await listSubscriptions(fastify.warehouse, p.role === 'admin' ? null : p.token_id);
    if (request.query.format === 'csv') return sendCsvRows(request, reply, 'alerts.csv', rows.map(flat), SUBSCRIPTION_COLUMNS);
    return { subscriptions: rows };
  });

  fastify.delete<{ Params: AlertParamsType }>('/api/alerts/:id', { schema: deleteRouteSchema, preHandler: managers }, async (request, reply) => {
    const sub = await visible(request, request.params.id);
    if (!sub) return reply.code(404).send(notFound(request.params.id));
    await deleteSubscription(fastify.warehouse, sub.subscription_id);
    request.log.info({ subscription_id: sub.subscription_id, by: ownerOf(request).token_id }, 'alert subscription deleted');
    return sub;
  });

  fastify.get<{ Params: AlertParamsType; Querystring: ListQueryType }>('/api/alerts/:id/events', { schema: eventsRouteSchema, preHandler: managers }, async (request, reply) => {
    const sub = await visible(request, request.params.id);
    if (!sub) return reply.code(404).send(notFound(request.params.id));
    const events = await subscriptionEvents(fastify.warehouse, sub.subscription_id);
    if (request.query.format === 'csv') return sendCsvRows(request, reply, `alert-${sub.subscription_id}-events.csv`, events as unknown as Record<string, unknown>[], EVENT_COLUMNS);
    return { subscription_id: sub.subscription_id, events };
  });
};

export default alerts;
