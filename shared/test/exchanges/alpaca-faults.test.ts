/**
 * Fault storms against the fake Alpaca over real HTTP: 429s, 500s, slow answers and dropped
 * connections, before and after the venue acted. Reads recover; orders are never doubled (counted at
 * the venue), and every log line written meanwhile is free of the API keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlpacaExchange } from '../../src/exchanges/alpaca/index.ts';
import { ExchangeError } from '../../src/exchanges/types.ts';
import { setLogDestination } from '../../src/log/index.ts';
import { FakeAlpaca, type FaultMode } from '../../src/testing/fake-alpaca/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { alpacaFor, intent } from './alpaca-helpers.ts';

// Adapters count retries and errors in the process's database (/metrics): a private one.
const db = useTestDatabase();
let fake: FakeAlpaca;
let alpaca: AlpacaExchange;
const lines: string[] = [];

beforeAll(async () => {
  setLogDestination((line) => lines.push(line), 'debug');
  fake = await FakeAlpaca.start({ cash: '10000000' });
  // a short deadline so "slow" answers become client timeouts
  alpaca = await alpacaFor(fake, { timeoutMs: 300 });
  fake.setPrice('AAPL', 100);
  fake.setPrice('BTC/USD', 50_000);
});
afterAll(async () => {
  await fake.close();
});

describe('reads under 429 / 500 / timeout / drop storms', () => {
  it('retries with backoff until the venue answers', async () => {
    fake.inject({ route: 'GET /v2/account', mode: 'status', status: 429, retryAfterS: 0, times: 2 });
    fake.inject({ route: 'GET /v2/account', mode: 'status', status: 500, times: 1 });
    fake.inject({ route: 'GET /v2/account', mode: 'drop', times: 1 });
    fake.inject({ route: 'GET /v2/account', mode: 'delay', delayMs: 600, times: 1 });
    const before = fake.requestsTo('GET /v2/account').length;
    const a = await alpaca.getAccount();
    expect(a.accountId).toBe(fake.trading.accountId);
    const seen = fake.requestsTo('GET /v2/account').slice(before);
    expect(seen.map((r) => r.fault ?? r.outcome)).toEqual([
      'status',
      'status',
      'status',
      'drop',
      'delay',
      200,
    ]);
  });

  it('honours Retry-After on a 429', async () => {
    fake.inject({ route: 'GET /v2/clock', mode: 'status', status: 429, retryAfterS: 1, times: 1 });
    const t0 = Date.now();
    await alpaca.getClock();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it('pages through bars while pages fail, without losing or repeating a bar', async () => {
    // faults on the first, fourth, eighth and twelfth requests of the download
    fake.inject({ route: 'GET /v2/stocks/bars', mode: 'status', status: 500, times: 3 });
    fake.inject({
      route: 'GET /v2/stocks/bars',
      mode: 'status',
      status: 429,
      retryAfterS: 0,
      times: 2,
      after: 4,
    });
    fake.inject({ route: 'GET /v2/stocks/bars', mode: 'drop', times: 2, after: 8 });
    fake.inject({ route: 'GET /v2/stocks/bars', mode: 'delay', delayMs: 600, times: 1, after: 12 });
    const before = fake.requestsTo('GET /v2/stocks/bars').length;
    const times: string[] = [];
    for await (const page of alpaca.getBars({
      symbol: 'AAPL',
      timeframe: '5Min',
      start: '2024-02-01T00:00:00Z',
      end: '2024-02-29T23:59:59Z',
      pageSize: 100,
    })) {
      times.push(...page.map((b) => b.time));
    }
    // February 2024: 20 sessions (19th is Presidents' Day) of 78 five-minute bars
    expect(times.length).toBe(20 * 78);
    expect(new Set(times).size).toBe(times.length);
    const faults = fake
      .requestsTo('GET /v2/stocks/bars')
      .slice(before)
      .filter((r) => r.fault);
    expect(faults.map((r) => r.fault)).toEqual([
      'status',
      'status',
      'status',
      'status',
      'status',
      'drop',
      'drop',
      'delay',
    ]);
  });

  it('gives up with a typed, retryable error when the venue stays down', async () => {
    fake.inject({ route: 'GET /v2/positions', mode: 'status', status: 503, times: 100 });
    const err = await alpaca.getPositions().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect(err).toMatchObject({ code: 'unavailable', status: 503, retryable: true });
    fake.clearFaults();
  });
});

describe('orders under fault storms', () => {
  it('resolves a dropped submit by looking the order up before any retry', async () => {
    const i = intent({ symbol: 'AAPL', qty: '1' });
    fake.inject({ route: 'POST /v2/orders', mode: 'drop-after', times: 1 });
    const before = fake.requests.length;
    const o = await alpaca.submitOrder(i);
    expect(o).toMatchObject({ clientOrderId: i.clientOrderId, status: 'filled' });
    const trail = fake.requests
      .slice(before)
      .filter((r) => r.route.includes('/v2/orders'))
      .map((r) => `${r.route} ${r.outcome}`);
    // one POST, then a lookup that finds it; no second POST
    expect(trail).toEqual(['POST /v2/orders dropped', 'GET /v2/orders:by_client_order_id 200']);
    expect(fake.orders(i.clientOrderId)).toHaveLength(1);
  });

  it('resolves a timed-out submit the same way, even when the venue acts late', async () => {
    const i = intent({ symbol: 'AAPL', qty: '2' });
    // the venue holds the request past the client's deadline, then places the order anyway
    fake.inject({ route: 'POST /v2/orders', mode: 'delay', delayMs: 700, times: 1 });
    fake.inject({ route: 'GET /v2/orders:by_client_order_id', mode: 'delay', delayMs: 700, times: 1 });
    const o = await alpaca.submitOrder(i);
    expect(o.clientOrderId).toBe(i.clientOrderId);
    // let the late request land, then count
    await new Promise((r) => setTimeout(r, 800));
    expect(fake.orders(i.clientOrderId)).toHaveLength(1);
  });

  it('places each of 40 orders exactly once through a storm of 429, 500, timeouts and drops', async () => {
    const modes: { mode: FaultMode; status?: number; delayMs?: number; retryAfterS?: number }[] = [
      { mode: 'status', status: 429, retryAfterS: 0 },
      { mode: 'status', status: 500 },
      { mode: 'status', status: 503 },
      { mode: 'status-after', status: 500 },
      { mode: 'status-after', status: 502 },
      { mode: 'drop' },
      { mode: 'drop-after' },
      { mode: 'delay', delayMs: 450 },
    ];
    const intents = Array.from({ length: 40 }, (_, k) =>
      k % 4 === 3
        ? intent({ symbol: 'BTC/USD', qty: '0.001' })
        : intent({ symbol: 'AAPL', qty: String(1 + (k % 3)) }),
    );
    const postsBefore = fake.requestsTo('POST /v2/orders').length;
    const results = [];
    for (const [k, i] of intents.entries()) {
      // every submit meets one or two faults on the POST and, for some, on the lookup too
      fake.inject({ route: 'POST /v2/orders', ...modes[k % modes.length], times: 1 });
      if (k % 3 === 0) fake.inject({ route: 'POST /v2/orders', ...modes[(k + 3) % modes.length], times: 1 });
      if (k % 5 === 0)
        fake.inject({ route: 'GET /v2/orders:by_client_order_id', mode: 'status', status: 500, times: 1 });
      if (k % 7 === 0) fake.inject({ route: 'GET /v2/orders:by_client_order_id', mode: 'drop', times: 1 });
      results.push(await alpaca.submitOrder(i));
    }
    // let any late (delayed) request finish before counting
    await new Promise((r) => setTimeout(r, 600));
    fake.clearFaults();
    for (const [k, i] of intents.entries()) {
      expect(results[k].clientOrderId).toBe(i.clientOrderId);
      expect(fake.orders(i.clientOrderId), i.clientOrderId).toHaveLength(1);
    }
    const ours = new Set(intents.map((i) => i.clientOrderId));
    expect(fake.trading.orders.filter((o) => ours.has(o.clientOrderId as string))).toHaveLength(40);
    // Each late (delayed) request may meet at most one duplicate answer; every one was resolved.
    const posts = fake.requestsTo('POST /v2/orders').slice(postsBefore);
    expect(posts.filter((r) => r.outcome === 422).length).toBeLessThanOrEqual(
      posts.filter((r) => r.fault === 'delay').length,
    );
  });

  it('never re-sends an order the venue has when answers are lost after it acted', async () => {
    // With no request in flight, the lookup is complete: not one duplicate answer from the venue.
    const intents = Array.from({ length: 12 }, () => intent({ symbol: 'AAPL', qty: '1' }));
    const postsBefore = fake.requestsTo('POST /v2/orders').length;
    for (const [k, i] of intents.entries()) {
      fake.inject({ route: 'POST /v2/orders', mode: k % 2 ? 'drop-after' : 'status-after', status: 500 });
      if (k % 3 === 0)
        fake.inject({ route: 'GET /v2/orders:by_client_order_id', mode: 'status', status: 503 });
      expect((await alpaca.submitOrder(i)).clientOrderId).toBe(i.clientOrderId);
    }
    const posts = fake.requestsTo('POST /v2/orders').slice(postsBefore);
    expect(posts).toHaveLength(12);
    expect(posts.filter((r) => r.outcome === 422)).toHaveLength(0);
    for (const i of intents) expect(fake.orders(i.clientOrderId)).toHaveLength(1);
  });

  it('gives up on a venue that stays down with a typed error, having placed nothing twice', async () => {
    const i = intent({ symbol: 'AAPL', qty: '1' });
    fake.inject({ route: 'POST /v2/orders', mode: 'status', status: 500, times: 100 });
    const err = await alpaca.submitOrder(i).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable', status: 500 });
    fake.clearFaults();
    expect(fake.orders(i.clientOrderId)).toHaveLength(0);
    // the pipeline may come back later with the same intent: one order, not two
    await alpaca.submitOrder(i);
    await alpaca.submitOrder(i);
    expect(fake.orders(i.clientOrderId)).toHaveLength(1);
  });
});

describe('metrics', () => {
  it('counts retries and final failures per operation for /metrics', async () => {
    // counters are written without holding up the call: give the last ones a moment
    await new Promise((r) => setTimeout(r, 200));
    const rows = await db.sql<{ name: string; labels: Record<string, string>; value: number }[]>`
      SELECT name, labels, value::float8 AS value FROM metric_counters ORDER BY name, labels::text`;
    const value = (name: string, labels: Record<string, string>) =>
      rows.find((r) => r.name === name && Object.entries(labels).every(([k, v]) => r.labels[k] === v))
        ?.value ?? 0;
    expect(
      value('weaver_exchange_retries_total', { exchange: 'alpaca', operation: 'submit' }),
    ).toBeGreaterThan(20);
    expect(value('weaver_exchange_retries_total', { exchange: 'alpaca', operation: 'data' })).toBeGreaterThan(
      5,
    );
    expect(
      value('weaver_exchange_errors_total', { exchange: 'alpaca', operation: 'submit', code: 'unavailable' }),
    ).toBe(1);
    expect(
      value('weaver_exchange_errors_total', {
        exchange: 'alpaca',
        operation: 'account',
        code: 'unavailable',
      }),
    ).toBe(1);
  });
});

describe('secrets', () => {
  it('never appear in a log line or an error message written during the storms', async () => {
    const err = await alpaca.submitOrder(intent({ symbol: 'SPY', qty: '1000000' })).catch((e: Error) => e);
    expect(lines.length).toBeGreaterThan(20);
    // the storms were logged (so this checks real lines, not silence)
    expect(lines.some((l) => l.includes('alpaca call retried'))).toBe(true);
    for (const line of [...lines, String(err), JSON.stringify(err)]) {
      expect(line).not.toContain(fake.keyId);
      expect(line).not.toContain(fake.secretKey);
    }
  });
});
