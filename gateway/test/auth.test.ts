import { readFileSync } from 'node:fs';
import { HttpError } from '@weaver/shared/runtime';
import { Health, Session } from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { authenticate, makeSessionCookieValue, sessionValid, tokensEqual } from '../src/auth.ts';
import { MAX_BODY_BYTES } from '../src/config.ts';
import { RateLimiter } from '../src/limits.ts';
import { useGateway } from './harness.ts';

const h = useGateway({
  overrides: {
    env: {
      WEAVER_API_CORS_ORIGINS: ['https://dashboard.example'],
      WEAVER_API_MAX_BODY_BYTES: 2048,
    },
  },
});

type ErrorAnswer = { error: { code: string; message: string; fields: Record<string, string> } };

describe('authentication', () => {
  it('health answers without a token; every other route needs one', async () => {
    const health = await h.json('/api/health', { auth: false });
    expect(health.status).toBe(200);
    Health.parse(health.body);

    for (const path of [
      '/api/trades',
      '/api/orders',
      '/api/account',
      '/api/system',
      '/api/openapi.json',
      '/api/events',
    ]) {
      const { status, body } = await h.json<ErrorAnswer>(path, { auth: false });
      expect(status, path).toBe(401);
      expect(body.error.code, path).toBe('unauthorized');
      expect(body.error.fields, path).toHaveProperty('authorization');
    }
  });

  it('refuses a wrong token, a malformed header and a token in the wrong scheme', async () => {
    const wrong = await h.json<ErrorAnswer>('/api/trades', {
      headers: { authorization: `Bearer ${h.token}x` },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_token');
    const basic = await h.json<ErrorAnswer>('/api/trades', {
      headers: { authorization: `Basic ${Buffer.from(`u:${h.token}`).toString('base64')}` },
    });
    expect(basic.status).toBe(401);
    const bare = await h.json<ErrorAnswer>('/api/trades', { headers: { authorization: h.token } });
    expect(bare.status).toBe(401);
    // A token in the query string is not a way in.
    const query = await h.json<ErrorAnswer>(`/api/trades?token=${h.token}`, { auth: false });
    expect(query.status).toBe(401);
    // Never echoes the token back.
    expect(JSON.stringify(wrong.body)).not.toContain(h.token);
  });

  it('the session cookie opens GET routes (EventSource) but never a change', async () => {
    const login = await h.call('/api/session', { auth: false, method: 'POST', json: { token: h.token } });
    expect(login.status).toBe(200);
    Session.parse(await login.json());
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^weaver_session=\d+\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(h.token);
    const pair = cookie.split(';')[0];

    const read = await h.call('/api/trades', { auth: false, headers: { cookie: pair } });
    expect(read.status).toBe(200);
    const stream = await h.call('/api/events', { auth: false, headers: { cookie: pair } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stream.body?.cancel();

    const change = await h.call('/api/strategies/reload', {
      auth: false,
      method: 'POST',
      headers: { cookie: pair },
    });
    expect(change.status).toBe(401);

    const forged = await h.call('/api/trades', {
      auth: false,
      headers: { cookie: `weaver_session=${Date.now() + 3600_000}.${'A'.repeat(43)}` },
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as ErrorAnswer).error.code).toBe('invalid_session');

    const logout = await h.call('/api/session', { auth: false, method: 'DELETE' });
    expect(logout.status).toBe(200);
    expect(logout.headers.get('set-cookie')).toMatch(/^weaver_session=; .*Max-Age=0/);

    const badLogin = await h.json<ErrorAnswer>('/api/session', {
      auth: false,
      method: 'POST',
      json: { token: 'nope' },
    });
    expect(badLogin.status).toBe(401);
    expect(badLogin.body.error.fields).toHaveProperty('token');
    const noToken = await h.json<ErrorAnswer>('/api/session', { auth: false, method: 'POST', json: {} });
    expect(noToken.status).toBe(400);
    expect(noToken.body.error.fields).toHaveProperty('token');
  });

  it('without a configured token the API refuses everything but health (fails closed)', async () => {
    const { createGateway } = await import('../src/app.ts');
    const open = createGateway({ apiToken: () => undefined });
    const res = await open.fetch(
      new Request('http://x/api/trades', { headers: { authorization: 'Bearer anything' } }),
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorAnswer).error.code).toBe('auth_not_configured');
    expect((await open.fetch(new Request('http://x/api/health'))).status).toBe(200);
  });
});

describe('/metrics', () => {
  it("answers Prometheus' scrape with the API token, and refuses others with the API's error shape", async () => {
    const res = await h.call('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toMatch(/^weaver_metrics_collector_up\{collector="orders"\} 1$/m);
    for (const authorization of [undefined, `Bearer ${h.token}x`, h.token, `Basic ${h.token}`]) {
      const denied = await h.json<ErrorAnswer>('/metrics', {
        auth: false,
        headers: authorization ? { authorization } : {},
      });
      expect(denied.status, authorization).toBe(401);
      expect(denied.body.error.fields).toHaveProperty('authorization');
    }
  });

  it('wrong tokens on /metrics spend the same rate-limit budget as the API', async () => {
    const { createGateway } = await import('../src/app.ts');
    const g = createGateway({
      apiToken: () => h.token,
      env: { WEAVER_API_RATE_PER_SEC: 0.01, WEAVER_API_RATE_BURST: 3 },
    });
    const scrape = (authorization: string) =>
      g.fetch(
        new Request('http://x/metrics', { headers: { authorization, 'x-forwarded-for': '198.51.100.7' } }),
      );
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await scrape(`Bearer guess-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // The budget is shared with /api: the same client's wrong token there is refused at once too.
    const api = await g.fetch(
      new Request('http://x/api/trades', {
        headers: { authorization: 'Bearer guess', 'x-forwarded-for': '198.51.100.7' },
      }),
    );
    expect(api.status).toBe(429);
    const none = createGateway({ apiToken: () => undefined });
    expect((await none.fetch(new Request('http://x/metrics'))).status).toBe(503);
  });
});

describe('token and session primitives', () => {
  it('compares tokens of any length without throwing, and only equal ones match', () => {
    expect(tokensEqual('secret-token', 'secret-token')).toBe(true);
    expect(tokensEqual('secret-token', 'secret-tokem')).toBe(false);
    expect(tokensEqual('', 'secret-token')).toBe(false);
    expect(tokensEqual('x'.repeat(10_000), 'secret-token')).toBe(false);
  });

  it('a session cookie is bound to the token and expires', () => {
    const now = Date.now();
    const v = makeSessionCookieValue('tok-one', now + 1000);
    expect(sessionValid(v, 'tok-one', now)).toBe(true);
    expect(sessionValid(v, 'tok-two', now)).toBe(false);
    expect(sessionValid(v, 'tok-one', now + 1001)).toBe(false);
    expect(() => authenticate({ method: 'POST', cookie: `weaver_session=${v}` }, 'tok-one', now)).toThrow(
      HttpError,
    );
  });

  it('the token bucket allows a burst, then the sustained rate', () => {
    let t = 0;
    const limiter = new RateLimiter(2, 3, () => t);
    for (let i = 0; i < 3; i++) limiter.take('a');
    expect(() => limiter.take('a')).toThrow(/too many/);
    limiter.take('b');
    t += 500; // one token back at 2/s
    limiter.take('a');
    expect(() => limiter.take('a')).toThrow();
  });
});

describe('request limits', () => {
  it('rate-limits mutations per client with 429 and Retry-After, never reads', async () => {
    const { createGateway } = await import('../src/app.ts');
    const g = createGateway({
      apiToken: () => h.token,
      env: { WEAVER_API_RATE_PER_SEC: 1, WEAVER_API_RATE_BURST: 4 },
    });
    const post = (client: string) =>
      g.fetch(
        new Request('http://x/api/strategies/reload', {
          method: 'POST',
          headers: { authorization: `Bearer ${h.token}`, 'x-forwarded-for': `203.0.113.9, ${client}` },
        }),
      );
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const res = await post('198.51.100.1');
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(((await res.json()) as ErrorAnswer).error.code).toBe('rate_limited');
      } else await res.body?.cancel();
    }
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Another client has its own bucket; reads are never limited.
    expect((await post('198.51.100.2')).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const read = await g.fetch(
        new Request('http://x/api/health', { headers: { 'x-forwarded-for': '198.51.100.1' } }),
      );
      expect(read.status).toBe(200);
    }
    // Wrong tokens spend the same budget, so guessing is as slow as changing things.
    const guesses = [];
    for (let i = 0; i < 6; i++) {
      const res = await g.fetch(
        new Request('http://x/api/trades', {
          headers: { authorization: `Bearer guess-${i}`, 'x-forwarded-for': '198.51.100.3' },
        }),
      );
      guesses.push(res.status);
    }
    expect(guesses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(guesses.slice(4)).toEqual([429, 429]);
  });

  it('refuses a body over the limit with 413, a non-JSON body with 415, broken JSON with 400', async () => {
    const big = await h.json<ErrorAnswer>('/api/session', {
      auth: false,
      method: 'POST',
      json: { token: 'x'.repeat(5000) },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    expect(big.body.error.fields).toHaveProperty('body');
    const { createGateway } = await import('../src/app.ts');
    const g = createGateway({ apiToken: () => h.token });
    const post = (body: string, type: string) =>
      g.fetch(
        new Request('http://x/api/session', { method: 'POST', body, headers: { 'content-type': type } }),
      );
    const text = await post('token=abc', 'application/x-www-form-urlencoded');
    expect(text.status).toBe(415);
    const broken = await post('{"token": ', 'application/json');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as ErrorAnswer).error.code).toBe('invalid_json');
  });

  it("the default body limit is the gateway's MAX_JSON_SIZE in stack.yml (the template's limit)", () => {
    const stack = parseYaml(readFileSync(new URL('../../stack.yml', import.meta.url), 'utf8'));
    const size = String(stack.functions.gateway.environment.MAX_JSON_SIZE);
    const m = /^(\d+)(kb|mb)$/.exec(size);
    expect(m, size).not.toBeNull();
    const bytes = Number(m?.[1]) * (m?.[2] === 'mb' ? 1024 * 1024 : 1024);
    expect(bytes).toBe(MAX_BODY_BYTES);
  });

  it('grants CORS to configured origins only (same origin by default)', async () => {
    const preflight = (origin: string) =>
      h.call('/api/trades', {
        auth: false,
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight('https://dashboard.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dashboard.example');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const read = await h.call('/api/trades', { headers: { origin: 'https://evil.example' } });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers unknown routes with the error shape, and sends no-store', async () => {
    const missing = await h.json<ErrorAnswer>('/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const res = await h.call('/api/trades');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
