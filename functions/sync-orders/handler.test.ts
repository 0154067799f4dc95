/**
 * sync-orders against the fake Alpaca (real SDK over HTTP), the real Postgres and real NATS: partial and
 * full fills, venue cancels, expiries and rejections become events and trades; positions and cash are
 * reconciled with the exchange as the truth, drift recorded once, announced once, and resolved.
 */
import { getPosition } from '@weaver/shared/db';
import { ManualOrderInput, placeManualOrder, resetExchanges } from '@weaver/shared/pipeline';
import { invokeHandler } from '@weaver/shared/runtime';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import { FakeAlpaca, overrideEnv } from '@weaver/shared/testing/fake-alpaca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bar,
  clearClock,
  expectRejected,
  MIN,
  pipelineContext,
  setClock,
  storeBars,
  useBus,
} from '../../shared/test/pipeline/helpers.ts';
import handler from './handler.ts';

describe.skipIf(!natsUrl())('sync-orders function', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  let fake: FakeAlpaca;
  let restoreEnv: () => void = () => {};

  beforeAll(async () => {
    fake = await FakeAlpaca.start({ cash: '100000' });
    restoreEnv = overrideEnv(fake.env());
    nats = await createTestNatsBus();
    await useBus(nats.bus);
  });
  afterAll(async () => {
    restoreEnv();
    await resetExchanges();
    await nats?.drop();
    await fake.close();
  });

  const ctx = () => pipelineContext(t.sql, nats.bus);
  const sync = async () => {
    const res = await invokeHandler(handler, { body: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as {
      orders: { checked: number; changed: number; trades: number; foreignOpen: number };
      positions: {
        drift: { kind: string; symbol: string; expected: string; actual: string; state: string }[];
      };
      cash: {
        currency: string;
        expected: string;
        actual: string;
        drift: { difference: string; state: string } | null;
      };
      resolved: number;
    };
  };
  const place = async (o: Record<string, unknown>) => {
    const r = await placeManualOrder(ctx(), ManualOrderInput.parse(o));
    if (!r.order) throw new Error(`not placed: ${r.reason}`);
    return r.order;
  };
  const events = async (type: string) =>
    t.sql<{ payload: Record<string, string> }[]>`SELECT payload FROM events WHERE type = ${type} ORDER BY id`;
  const statusOf = async (id: number) =>
    (await t.sql<{ status: string }[]>`SELECT status FROM orders WHERE id = ${id}`)[0].status;

  it('books a partial fill, then the rest, publishing each change', async () => {
    fake.setPrice('AAPL', 100);
    const order = await place({
      symbol: 'AAPL',
      side: 'buy',
      type: 'limit',
      limitPrice: '95',
      qty: '10',
      timeInForce: 'gtc',
      clientOrderId: 'sync-partial',
    });
    expect(order.status).toBe('new');
    const venue = fake.orders('sync-partial')[0];

    fake.trading.fill(venue, '4', '95');
    const first = await sync();
    expect(first.orders).toMatchObject({ checked: 1, changed: 1, trades: 1 });
    expect(await statusOf(order.id)).toBe('partially_filled');
    expect((await getPosition(t.sql, 'manual', 'AAPL'))?.qty).toBe('4');

    fake.trading.fill(venue, '6', '94');
    const second = await sync();
    expect(second.orders).toMatchObject({ changed: 1, trades: 1 });
    expect(await statusOf(order.id)).toBe('filled');
    const position = await getPosition(t.sql, 'manual', 'AAPL');
    expect(position).toMatchObject({ qty: '10', avgPrice: '94.4' });
    const trades = await t.sql<
      { qty: string; price: string }[]
    >`SELECT qty, price FROM trades WHERE order_id = ${order.id} ORDER BY id`;
    expect(trades.map((r) => [r.qty, r.price])).toEqual([
      ['4', '95'],
      ['6', '94'],
    ]);
    const updates = (await events('orders.updated')).map(
      (e) => (e.payload as unknown as { orders: { status: string }[] }).orders[0].status,
    );
    expect(updates).toEqual(expect.arrayContaining(['partially_filled', 'filled']));
    expect((await events('trades.recorded')).length).toBeGreaterThanOrEqual(2);
    // the books match the venue: no drift
    expect(second.positions.drift).toEqual([]);
    expect(second.cash.drift).toBeNull();
    expect(second.cash.actual).toBe('99056');
  });

  it('records venue cancels, expiries and rejections', async () => {
    fake.setPrice('MSFT', 400);
    const canceled = await place({
      symbol: 'MSFT',
      side: 'buy',
      type: 'limit',
      limitPrice: '300',
      qty: '1',
      timeInForce: 'gtc',
      clientOrderId: 'sync-cancel',
    });
    const expired = await place({
      symbol: 'MSFT',
      side: 'buy',
      type: 'limit',
      limitPrice: '301',
      qty: '1',
      timeInForce: 'day',
      clientOrderId: 'sync-expire',
    });
    const rejected = await place({
      symbol: 'MSFT',
      side: 'buy',
      type: 'limit',
      limitPrice: '302',
      qty: '1',
      timeInForce: 'gtc',
      clientOrderId: 'sync-reject',
    });
    fake.trading.finish(fake.orders('sync-cancel')[0], 'canceled');
    fake.trading.finish(fake.orders('sync-expire')[0], 'expired');
    fake.trading.finish(fake.orders('sync-reject')[0], 'rejected');
    const r = await sync();
    expect(r.orders).toMatchObject({ checked: 3, changed: 3, trades: 0 });
    expect([await statusOf(canceled.id), await statusOf(expired.id), await statusOf(rejected.id)]).toEqual([
      'canceled',
      'expired',
      'rejected',
    ]);
    // final orders are not asked about again
    expect((await sync()).orders.checked).toBe(0);
  });

  it('records drift from the exchange once, keeps it while it lasts, and resolves it', async () => {
    // shares and cash that appeared at the venue outside Weaver
    fake.trading.setPosition('AAPL', '15', '94.4');
    fake.trading.cash = fake.trading.cash.plus(500);
    fake.trading.submit({
      symbol: 'SPY',
      qty: '1',
      side: 'buy',
      type: 'limit',
      limit_price: '1',
      time_in_force: 'gtc',
      client_order_id: 'by-hand',
    });
    const before = (await events('positions.drift')).length;
    const r = await sync();
    expect(r.positions.drift).toEqual([
      { kind: 'position', symbol: 'AAPL', expected: '10', actual: '15', difference: '5', state: 'new' },
    ]);
    expect(r.cash.drift).toMatchObject({ difference: '500', state: 'new' });
    expect(r.orders.foreignOpen).toBe(1);
    const announced = (await events('positions.drift')).slice(before).map((e) => e.payload);
    expect(announced).toEqual([
      { exchange: 'alpaca', symbol: 'AAPL', expected: '10', actual: '15' },
      { exchange: 'alpaca', symbol: 'USD', expected: r.cash.expected, actual: r.cash.actual },
    ]);

    // unchanged drift: recorded as still there, not announced again
    const again = await sync();
    expect(again.positions.drift[0].state).toBe('ongoing');
    expect((await events('positions.drift')).length).toBe(before + 2);
    const open = await t.sql<{ kind: string; symbol: string; difference: string }[]>`
      SELECT kind, symbol, difference FROM exchange_drift WHERE resolved_at IS NULL ORDER BY kind`;
    expect(open).toEqual([
      { kind: 'cash', symbol: 'USD', difference: '500' },
      { kind: 'position', symbol: 'AAPL', difference: '5' },
    ]);

    // the venue comes back in line: resolved, history kept
    fake.trading.setPosition('AAPL', '10', '94.4');
    fake.trading.cash = fake.trading.cash.minus(500);
    const fixed = await sync();
    expect(fixed.positions.drift).toEqual([]);
    expect(fixed.cash.drift).toBeNull();
    expect(fixed.resolved).toBe(2);
    const [{ n }] = await t.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM exchange_drift WHERE resolved_at IS NOT NULL`;
    expect(n).toBe(2);
    // every run snapshots the venue's account
    const [{ snaps }] = await t.sql<
      { snaps: number }[]
    >`SELECT count(*)::int AS snaps FROM account_snapshots WHERE exchange = 'alpaca'`;
    expect(snaps).toBeGreaterThanOrEqual(6);
  });

  it('answers bad input with a 400 naming the field, writing nothing', async () => {
    await expectRejected(t.sql, handler, { limit: -1 }, 400, 'limit');
    await expectRejected(t.sql, handler, { exchange: 'Not A Slug' }, 400, 'exchange');
  });
});

describe.skipIf(!natsUrl())('sync-orders on the simulated exchange', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  const T0 = Date.UTC(2025, 3, 7, 14, 0);

  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
  });
  afterAll(async () => {
    clearClock();
    await resetExchanges();
    await nats?.drop();
  });

  it('books the sim fill and finds the books in line with the venue', async () => {
    await storeBars(t.sql, [bar('SYNCSIM', T0, 20)]);
    setClock(T0 + MIN + 100);
    const placed = await placeManualOrder(
      pipelineContext(t.sql, nats.bus),
      ManualOrderInput.parse({
        exchange: 'sim',
        symbol: 'SYNCSIM',
        side: 'buy',
        qty: '5',
        timeInForce: 'gtc',
      }),
    );
    expect(placed.order?.status).not.toBe('failed');
    // the next bar fills the market order at its open
    await storeBars(t.sql, [bar('SYNCSIM', T0 + MIN, 21, { open: 20.5 })]);
    setClock(T0 + 2 * MIN + 100);
    const res = await invokeHandler(handler, { body: { exchange: 'sim' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as {
      orders: { changed: number; trades: number };
      positions: { drift: unknown[] };
      cash: { drift: unknown };
    };
    expect(body.orders).toMatchObject({ changed: 1, trades: 1 });
    expect(body.positions.drift).toEqual([]);
    expect(body.cash.drift).toBeNull();
    const again = await invokeHandler(handler, { body: { exchange: 'sim' } });
    expect((again.body as typeof body).positions.drift).toEqual([]);
    expect((again.body as typeof body).cash.drift).toBeNull();
  });
});
