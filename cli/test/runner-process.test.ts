/**
 * `weaver start` as `npm start` runs it — a child process with no DATABASE_URL, NATS_URL or keys, in an
 * empty state folder: embedded PostgreSQL, in-process bus, demo mode, the real stack.yml and functions.
 * Then SIGTERM (exit 0) and a restart on the same folder, which keeps the data, the token and the clock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres } from '../src/runner/database.ts';
import { bareEnv, type StartedProcess, startChild, tempStateDir } from './helpers.ts';

describe('weaver start from empty, with no environment', () => {
  const state = tempStateDir('start');
  let port: number;
  let child: StartedProcess | undefined;
  let base: string;
  let token: string;

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = await startChild(
      ['--state-dir', state.dir, '--no-web-build'],
      bareEnv({ WEAVER_DEMO_SPEED: '60' }),
      port,
    );
    token = readFileSync(join(state.dir, 'api-token'), 'utf8').trim();
  }, 180_000);

  afterAll(async () => {
    await child?.stop(5000);
    state.remove();
  });

  it('prints one readable banner with the URL, the demo mode and the new API token', () => {
    const out = child?.output() ?? '';
    expect(out).toContain(`Weaver is running at http://localhost:${port}`);
    expect(out).toContain('embedded PostgreSQL');
    expect(out).toContain('in-process');
    expect(out).toMatch(/sim — demo mode/);
    // every function of stack.yml loaded (a broken handler is listed as UNAVAILABLE with its reason)
    expect(out).not.toContain('UNAVAILABLE');
    expect(token.length).toBeGreaterThanOrEqual(32);
    // the token appears once: in the banner, never in a log line
    expect(out.split(token).length - 1).toBe(1);
    for (const line of out.split('\n').filter((l) => l.startsWith('{'))) expect(line).not.toContain(token);
  });

  it('serves a real function at /function/<name>: a request, and a validation error naming the field', async () => {
    const ok = await fetch(`${base}/function/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'test', title: 'hello', text: 'from the runner test' }),
    });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${base}/function/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'test', title: 42 }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { fields: Record<string, string> } };
    expect(Object.keys(body.error.fields)).toContain('title');
  });

  it('serves the UI at /', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('stops cleanly on SIGTERM, and a restart keeps the data, the token and the demo clock', async () => {
    expect(await child?.stop()).toBe(0);
    child = undefined;
    // the data folder holds what the first run wrote
    const pg = await startEmbeddedPostgres(join(state.dir, 'pg'));
    const { connect } = await import('@weaver/shared/db');
    let runsBefore: number;
    const sql = connect(pg.url, { max: 1 });
    try {
      [{ n: runsBefore }] = await sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM function_runs WHERE function_name = 'notify'`;
    } finally {
      await sql.end();
      await pg.stop();
    }
    expect(runsBefore).toBe(2);
    const saved = JSON.parse(readFileSync(join(state.dir, 'demo-clock.json'), 'utf8')) as {
      simulatedNow: number;
    };

    child = await startChild(
      ['--state-dir', state.dir, '--no-web-build'],
      bareEnv({ WEAVER_DEMO_SPEED: '60' }),
      port,
    );
    const out = child.output();
    expect(out).toContain('(resumed)');
    expect(out).toContain(token);
    expect(readFileSync(join(state.dir, 'api-token'), 'utf8').trim()).toBe(token);
    const again = await fetch(`${base}/function/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'test', title: 'again', text: 'after the restart' }),
    });
    expect(again.status).toBe(200);
    expect(await child.stop()).toBe(0);
    child = undefined;
    const resumed = JSON.parse(readFileSync(join(state.dir, 'demo-clock.json'), 'utf8')) as {
      simulatedNow: number;
    };
    expect(resumed.simulatedNow).toBeGreaterThan(saved.simulatedNow);

    const pg2 = await startEmbeddedPostgres(join(state.dir, 'pg'));
    const sql2 = connect(pg2.url, { max: 1 });
    try {
      const [{ n }] = await sql2<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM function_runs WHERE function_name = 'notify'`;
      expect(n).toBe(runsBefore + 1);
    } finally {
      await sql2.end();
      await pg2.stop();
    }
  }, 180_000);
});
