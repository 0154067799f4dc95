/**
 * The runner serves functions the way the OpenFaaS gateway + node22 template do: same event, same
 * context, same body parsing and limits, same answers. Runs in-process on a private database.
 */
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { createTestDatabase, type TestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runner, startRunner } from '../src/runner/runner.ts';
import { captureLogs, FIXTURE_ROOT, tempStateDir, waitFor } from './helpers.ts';

let runner: Runner;
let tdb: TestDatabase;
let state: ReturnType<typeof tempStateDir>;
let base: string;
const logs = captureLogs();

beforeAll(async () => {
  tdb = await createTestDatabase();
  state = tempStateDir('http');
  process.env.DATABASE_URL = tdb.url;
  delete process.env.NATS_URL;
  delete process.env.WEAVER_CLOCK;
  delete process.env.WEAVER_API_TOKEN;
  runner = await startRunner({ root: FIXTURE_ROOT, stateDir: state.dir, port: 0 });
  base = `http://127.0.0.1:${runner.port}`;
});

afterAll(async () => {
  await runner?.stop();
  await tdb?.drop();
  state?.remove();
});

const post = (path: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', body, headers });

describe('functions at /function/<name>', () => {
  it('answers a valid request with the function result as JSON and gateway headers', async () => {
    const r = await post('/function/echo', JSON.stringify({ message: 'hi', times: 2 }), {
      'content-type': 'application/json',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('x-call-id')).toMatch(/^[0-9a-f-]{36}$/);
    // both headers survive the template's context.headers(), which replaces rather than merges
    expect(r.headers.get('x-correlation-id')).toBeTruthy();
    expect(Number(r.headers.get('x-duration-seconds'))).toBeGreaterThan(0);
    // weaver.env-style shared settings come from the function's environment_file
    expect(await r.json()).toEqual({ echo: 'hi hi', setting: 'from-environment-file' });
    const [run] =
      await tdb.sql`SELECT function_name, outcome, status_code FROM function_runs WHERE function_name = 'echo'`;
    expect(run).toMatchObject({ outcome: 'ok', status_code: 200 });
  });

  it('answers invalid input with a 400 naming the field', async () => {
    const r = await post('/function/echo', JSON.stringify({ message: 5 }), {
      'content-type': 'application/json',
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(body.error.code).toBe('invalid_input');
    expect(Object.keys(body.error.fields)).toEqual(['message']);
    expect(r.headers.get('x-correlation-id')).toBeTruthy();
  });

  it('parses bodies as body-parser does: JSON, text, none, unknown types, urlencoded, gzip', async () => {
    const shape = async (init: RequestInit & { path?: string }) => {
      const r = await fetch(`${base}/function/event-shape${init.path ?? ''}`, init);
      expect(r.status).toBe(200);
      return (await r.json()) as Record<string, unknown>;
    };
    expect(
      await shape({ method: 'POST', body: '{"a":[1,2]}', headers: { 'content-type': 'application/json' } }),
    ).toMatchObject({
      bodyType: 'object',
      body: { a: [1, 2] },
      contentType: 'application/json',
    });
    // no content-type: the template sets text/plain and the body stays a string
    const noType = await shape({ method: 'POST', body: Buffer.from('{"a":1}') });
    expect(noType).toMatchObject({ bodyType: 'string', body: '{"a":1}', contentType: 'text/plain' });
    expect(
      await shape({ method: 'POST', body: 'x', headers: { 'content-type': 'application/octet-stream' } }),
    ).toMatchObject({
      bodyType: 'undefined',
    });
    expect(await shape({ method: 'GET' })).toMatchObject({ bodyType: 'undefined', method: 'GET' });
    expect(
      await shape({
        method: 'POST',
        body: 'a=1&b[c]=2&d=3&d=4',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    ).toMatchObject({ body: { a: '1', b: { c: '2' }, d: ['3', '4'] } });
    expect(
      await shape({
        method: 'POST',
        body: gzipSync('{"zipped":true}'),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      }),
    ).toMatchObject({ body: { zipped: true } });
    // an empty JSON body is {} (body-parser), not an error
    expect(
      await shape({ method: 'POST', body: '', headers: { 'content-type': 'application/json' } }),
    ).toMatchObject({
      body: {},
    });
  });

  it('passes the sub-path and query through, like the gateway', async () => {
    const r = await fetch(`${base}/function/event-shape/orders/7?x=1&x=2&y=z`, { method: 'DELETE' });
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ method: 'DELETE', path: '/orders/7', query: { x: ['1', '2'], y: 'z' } });
    expect(body.callId).toBe(r.headers.get('x-call-id'));
  });

  it('rejects what body-parser rejects: bad JSON 400, JSON scalars 400, over MAX_JSON_SIZE 413, bad charset 415', async () => {
    const bad = await post('/function/event-shape', '{"a":', { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    const scalar = await post('/function/event-shape', '"just a string"', {
      'content-type': 'application/json',
    });
    expect(scalar.status).toBe(400);
    // event-shape sets MAX_JSON_SIZE: 2kb in the fixture stack
    const big = await post('/function/event-shape', JSON.stringify({ pad: 'x'.repeat(3000) }), {
      'content-type': 'application/json',
    });
    expect(big.status).toBe(413);
    const fits = await post('/function/event-shape', JSON.stringify({ pad: 'x'.repeat(1500) }), {
      'content-type': 'application/json',
    });
    expect(fits.status).toBe(200);
    // the default limit (100kb) for a function that sets none
    const huge = await post('/function/echo', JSON.stringify({ message: 'x'.repeat(110 * 1024) }), {
      'content-type': 'application/json',
    });
    expect(huge.status).toBe(413);
    // a defineFunction's own limit is its MAX_JSON_SIZE from stack.yml, not the process's default
    const large = await post('/function/big-body', JSON.stringify({ pad: 'x'.repeat(300 * 1024) }), {
      'content-type': 'application/json',
    });
    expect(large.status).toBe(200);
    expect(await large.json()).toEqual({ length: 300 * 1024 });
    const charset = await post('/function/event-shape', '{}', {
      'content-type': 'application/json; charset=koi8-r',
    });
    expect(charset.status).toBe(415);
  });

  it('sends answers as the template does: status and headers from the context, fail → 500, throw → current status', async () => {
    const text = await fetch(`${base}/function/event-shape?mode=text`);
    expect(text.status).toBe(201);
    expect(text.headers.get('x-custom')).toBe('yes');
    expect(text.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await text.text()).toBe('plain text');
    const failed = await fetch(`${base}/function/event-shape?mode=fail`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('Error: failed on purpose');
    // The template sends a thrown error with whatever status was set — 200 here — which is why
    // Weaver's handlers catch their own errors (defineFunction does).
    const thrown = await fetch(`${base}/function/event-shape?mode=throw`);
    expect(thrown.status).toBe(200);
    expect(await thrown.text()).toBe('Error: thrown on purpose');
    const returned = await fetch(`${base}/function/event-shape?mode=return`);
    expect(await returned.json()).toEqual({ returned: true });
  });

  it('answers 504 when a function outlives its exec_timeout', async () => {
    const r = await fetch(`${base}/function/slow`, { method: 'POST' });
    expect(r.status).toBe(504);
    expect(await r.text()).toMatch(/exec_timeout/);
  });

  it('answers 404 for a function that is not in stack.yml', async () => {
    const r = await fetch(`${base}/function/nope`, { method: 'POST' });
    expect(r.status).toBe(404);
  });
});

describe('gateway routes', () => {
  it('runs /async-function/<name> in the background and posts the result to X-Callback-Url', async () => {
    const received = new Promise<{ headers: Record<string, unknown>; body: string }>((resolve) => {
      const cb = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => {
          res.end();
          cb.close();
          resolve({ headers: req.headers, body });
        });
      }).listen(0, '127.0.0.1');
      cb.on('listening', async () => {
        const port = (cb.address() as { port: number }).port;
        const r = await post('/async-function/echo', JSON.stringify({ message: 'later' }), {
          'content-type': 'application/json',
          'x-callback-url': `http://127.0.0.1:${port}/done`,
        });
        expect(r.status).toBe(202);
        expect(r.headers.get('x-call-id')).toBeTruthy();
      });
    });
    const got = await received;
    expect(got.headers['x-function-status']).toBe('200');
    expect(got.headers['x-function-name']).toBe('echo');
    expect(JSON.parse(got.body)).toMatchObject({ echo: 'later' });
  });

  it('serves /healthz, the gateway function at /api/* with the whole path, and a page at /', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const api = await fetch(`${base}/api/trades?limit=2`);
    expect(await api.json()).toEqual({ api: true, path: '/api/trades', method: 'GET' });
    const same = await fetch(`${base}/function/gateway/api/trades`);
    expect(await same.json()).toEqual({ api: true, path: '/api/trades', method: 'GET' });
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/api/trades');
  });
});

describe('triggers', () => {
  it('fires the cron function on the simulated clock and routes its event to the topic function', async () => {
    const runs = await waitFor('a cron run and the topic run it caused', async () => {
      const rows = await tdb.sql<
        { function_name: string; trigger: string; outcome: string; correlation_id: string }[]
      >`
        SELECT function_name, trigger, outcome, correlation_id FROM function_runs
        WHERE function_name IN ('tick', 'on-bars') ORDER BY id`;
      const tick = rows.find((r) => r.function_name === 'tick' && r.outcome === 'ok');
      const onBars = rows.find((r) => r.function_name === 'on-bars' && r.outcome === 'ok');
      return tick && onBars ? { tick, onBars } : undefined;
    });
    expect(runs.tick.trigger).toBe('http');
    expect(runs.onBars.trigger).toBe('event:bars.fetched');
    // the topic run continues the cron run's chain of work
    const [event] =
      await tdb.sql`SELECT correlation_id FROM events WHERE type = 'bars.fetched' ORDER BY id LIMIT 1`;
    expect(event.correlation_id).toBeTruthy();
    const [chained] = await tdb.sql`
      SELECT count(*)::int AS n FROM function_runs WHERE function_name = 'on-bars' AND correlation_id = ${event.correlation_id}`;
    expect(chained.n).toBe(1);
  });

  it('logs JSON lines without the API token', async () => {
    expect(logs.length).toBeGreaterThan(0);
    for (const l of logs) expect(() => JSON.parse(l)).not.toThrow();
    const token = runner.apiToken.value ?? '';
    expect(token.length).toBeGreaterThan(16);
    expect(logs.join('\n')).not.toContain(token);
  });
});
