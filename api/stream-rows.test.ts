import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { TURN_SIZE } from '../warehouse/turns.ts';
import { sendGeoJson, sendJsonRows } from './stream-rows.ts';

const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ i, name: `row "${i}" \u00e9\n`, x: i / 3, none: null }));

async function app() {
  const f = Fastify();
  f.decorateRequest('auditRows', null);
  f.get('/rows/:n', async (request, reply) => {
    const n = Number((request.params as { n: string }).n);
    const envelope = n % 2 ? { window: { from: '2026-01-01' }, as_of: 'x' } : {};
    return sendJsonRows(request, reply, envelope, rowsOf(n));
  });
  f.get('/geo/:n', async (request, reply) => sendGeoJson(request, reply, { type: 'FeatureCollection' }, rowsOf(Number((request.params as { n: string }).n))));
  return f;
}

describe('JSON answers: small ones whole, large ones streamed, the same text either way', () => {
  it('writes what JSON.stringify writes, with the array last', async () => {
    const f = await app();
    for (const n of [0, 1, 2, 9, TURN_SIZE, TURN_SIZE + 1, 3 * TURN_SIZE + 2]) {
      const res = await f.inject({ url: `/rows/${n}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const envelope = n % 2 ? { window: { from: '2026-01-01' }, as_of: 'x' } : {};
      expect(res.body).toBe(JSON.stringify({ ...envelope, rows: rowsOf(n) }));
      // Whole bodies carry their length; streamed ones are chunked.
      if (n <= TURN_SIZE) expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
      else expect(res.headers['transfer-encoding']).toBe('chunked');
      const geo = await f.inject({ url: `/geo/${n}` });
      expect(geo.headers['content-type']).toBe('application/geo+json; charset=utf-8');
      expect(geo.body).toBe(JSON.stringify({ type: 'FeatureCollection', features: rowsOf(n) }));
      if (n <= TURN_SIZE) expect(geo.headers['content-length']).toBe(String(Buffer.byteLength(geo.body)));
      else expect(geo.headers['transfer-encoding']).toBe('chunked');
    }
    await f.close();
  });
});
