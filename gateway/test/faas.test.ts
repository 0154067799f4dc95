import { invokeHandler } from '@weaver/shared/runtime';
import { Health, TradePage } from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import handler from '../handler.ts';
import { toRequest } from '../src/faas.ts';
import { seedTrades } from './fixtures.ts';
import { useGateway } from './harness.ts';

const h = useGateway();

describe('the OpenFaaS handler contract', () => {
  it('answers a request as the node template would send it, at /api and below /function/gateway', async () => {
    await seedTrades(h.sql, [
      { executedAt: '2025-01-02T10:00:00.000Z', symbol: 'ACME' },
      { executedAt: '2025-01-02T11:00:00.000Z', symbol: 'GLOBEX' },
    ]);
    for (const path of ['/api/trades', '/function/gateway/api/trades']) {
      const res = await invokeHandler(h.handler, {
        method: 'GET',
        path,
        query: { limit: '1', symbol: 'globex' },
        headers: { authorization: `Bearer ${h.token}`, host: 'gateway:8080' },
      });
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const page = TradePage.parse(JSON.parse(String(res.body)));
      expect(page.items.map((t) => t.symbol)).toEqual(['GLOBEX']);
    }
  });

  it('answers a validation error with 400 naming the field', async () => {
    const res = await invokeHandler(h.handler, {
      method: 'GET',
      path: '/api/trades',
      query: { limit: '-3' },
      headers: { authorization: `Bearer ${h.token}` },
    });
    expect(res.status).toBe(400);
    const body = JSON.parse(String(res.body));
    expect(body.error.code).toBe('invalid_input');
    expect(body.error.fields).toHaveProperty('limit');
  });

  it('passes a JSON body that body-parser already parsed, and a refusal keeps its status', async () => {
    const login = await invokeHandler(h.handler, {
      method: 'POST',
      path: '/api/session',
      headers: { 'content-type': 'application/json' },
      body: { token: h.token },
    });
    expect(login.status).toBe(200);
    expect(login.headers['set-cookie']).toMatch(/^weaver_session=/);
    const wrong = await invokeHandler(h.handler, {
      method: 'POST',
      path: '/api/session',
      headers: { 'content-type': 'application/json' },
      body: { token: 42 },
    });
    expect(wrong.status).toBe(400);
    expect(JSON.parse(String(wrong.body)).error.fields).toHaveProperty('token');
    const anonymous = await invokeHandler(h.handler, { method: 'GET', path: '/api/orders', headers: {} });
    expect(anonymous.status).toBe(401);
  });

  it("the function's default export serves health with the process's own configuration", async () => {
    const res = await invokeHandler(handler, { method: 'GET', path: '/api/health', headers: {} });
    expect(res.status).toBe(200);
    Health.parse(JSON.parse(String(res.body)));
  });

  it('builds the Web request from the template event: query arrays, headers, method', () => {
    const req = toRequest({
      method: 'post',
      path: '/api/orders',
      query: { status: ['open', 'filled'], limit: '5' },
      headers: { 'x-forwarded-for': ['a', 'b'], 'content-length': '99', 'x-weaver-transport': 'spoofed' },
      body: 'plain',
    });
    expect(req.method).toBe('POST');
    expect(new URL(req.url).searchParams.getAll('status')).toEqual(['open', 'filled']);
    expect(req.headers.get('x-forwarded-for')).toBe('a, b');
    expect(req.headers.get('content-length')).toBeNull();
    expect(req.headers.get('x-weaver-transport')).toBe('faas');
  });
});
