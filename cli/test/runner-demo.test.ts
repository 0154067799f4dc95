/**
 * The README's promise, end to end: `npm start` on a clean machine (no database, no bus, no keys) and
 * within a minute the bot trades on its own — bars arrive, the demo strategy signals, orders go to the
 * simulated exchange, fills become trades and positions — all through the real functions, read back
 * through the real API with the token the runner generated.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createTestDatabase, natsUrl, type TestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/runner/database.ts';
import { bareEnv, type StartedProcess, startChild, tempStateDir, waitFor } from './helpers.ts';

interface TradeItem {
  strategy: string;
  symbol: string;
  side: string;
  qty: string;
  price: string;
}

describe('npm start: the demo trades within a minute', () => {
  const state = tempStateDir('demo');
  let child: StartedProcess | undefined;
  let base: string;
  let token: string;
  let startedAt: number;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    startedAt = Date.now();
    // A 1 s window for event streams answered through the template: the runner's /api must not use it.
    child = await startChild(
      ['--state-dir', state.dir, '--no-web-build'],
      bareEnv({ WEAVER_SSE_WINDOW_MS: '1000' }),
      port,
    );
    // Starting (embedded PostgreSQL's initdb included) is not counted in the minute, but has its own bound.
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    startedAt = Date.now();
    token = readFileSync(join(state.dir, 'api-token'), 'utf8').trim();
  }, 180_000);

  afterAll(async () => {
    const code = await child?.stop();
    state.remove();
    expect(code).toBe(0);
  });

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };

  it('records a trade and a position within 60 s of the runner being up, read through /api', async () => {
    const trades = await waitFor(
      'the first trade',
      async () => {
        const page = await api<{ items: TradeItem[] }>('/api/trades?limit=10');
        return page.items.length > 0 ? page.items : undefined;
      },
      Math.max(1000, 60_000 - (Date.now() - startedAt)),
    );
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    const t = trades[0];
    expect(t.side === 'buy' || t.side === 'sell').toBe(true);
    expect(Number(t.qty)).toBeGreaterThan(0);
    expect(Number(t.price)).toBeGreaterThan(0);
    const positions = await api<{ items: { symbol: string; qty: string }[] }>('/api/positions');
    expect(positions.items.some((p) => p.symbol === t.symbol)).toBe(true);
  }, 90_000);

  it('streams live events on one open connection at /api/events', async () => {
    const controller = new AbortController();
    const r = await fetch(`${base}/api/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const reader = (r.body as ReadableStream<BufferSource>).pipeThrough(new TextDecoderStream()).getReader();
    const ids: number[] = [];
    let buffer = '';
    const until = Date.now() + 6_000;
    let ended = false;
    while (Date.now() < until && ids.length < 3) {
      const next = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(1, until - Date.now()))),
      ]);
      if (next === null) break;
      if (next.done) {
        ended = true;
        break;
      }
      buffer += next.value;
      for (const m of buffer.matchAll(/^id: ?(\d+)$/gm)) ids.push(Number(m[1]));
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    }
    controller.abort();
    // The demo publishes bars every ~2 s: several events arrive on the same, still open, response.
    expect(ended).toBe(false);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  }, 30_000);

  it('refuses the API without the token', async () => {
    const r = await fetch(`${base}/api/trades`);
    expect(r.status).toBe(401);
  });
});

describe.skipIf(!natsUrl())(
  'npm start with NATS_URL and DATABASE_URL: the demo trades over real NATS',
  () => {
    const state = tempStateDir('demo-nats');
    const id = randomBytes(4).toString('hex');
    const prefix = `t${id}`;
    const stream = `T_${id}`;
    let tdb: TestDatabase;
    let child: StartedProcess | undefined;

    beforeAll(async () => {
      tdb = await createTestDatabase();
      const port = await freePort();
      child = await startChild(
        ['--state-dir', state.dir, '--no-web-build'],
        bareEnv({
          DATABASE_URL: tdb.url,
          NATS_URL: natsUrl() ?? '',
          WEAVER_SUBJECT_PREFIX: prefix,
          WEAVER_STREAM: stream,
        }),
        port,
      );
    }, 180_000);

    afterAll(async () => {
      const code = await child?.stop();
      const nc = await connect({ servers: natsUrl() ?? '' });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
      await nc.close();
      await tdb?.drop();
      state.remove();
      expect(code).toBe(0);
    });

    it('books a trade through the functions on NATS, every step in the stream', async () => {
      expect(child?.output()).toContain(`NATS ${natsUrl()}`);
      const trade = await waitFor(
        'a trade in the database',
        async () => {
          const [t] = await tdb.sql<
            { id: number; strategy: string }[]
          >`SELECT id, strategy FROM trades ORDER BY id LIMIT 1`;
          return t;
        },
        60_000,
      );
      expect(trade.strategy).toBe('demo-sma');
      const nc = await connect({ servers: natsUrl() ?? '' });
      try {
        const jsm = await jetstreamManager(nc);
        for (const type of ['bars.fetched', 'signals.created', 'orders.updated', 'trades.recorded']) {
          const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}.${type}` });
          expect(Object.keys(info.state.subjects ?? {}), type).toContain(`${prefix}.${type}`);
        }
      } finally {
        await nc.close();
      }
    }, 90_000);
  },
);
