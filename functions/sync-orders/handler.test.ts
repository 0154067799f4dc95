/**
 * sync-orders against the fake Alpaca (real SDK over HTTP), the real Postgres and real NATS: partial and
 * full fills, venue cancels, expiries and rejections become events and trades; positions and cash are
 * reconciled with the exchange as the truth, drift recorded once, announced once, and resolved.
 */
import { getPosition, loadMigrations } from '@weaver/shared/db';
import { simCash } from '@weaver/shared/exchanges/sim';
import {
  getExchange,
  ManualOrderInput,
  placeManualOrder,
  resetExchanges,
  setExchange,
} from '@weaver/shared/pipeline';
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
      compared: boolean;
      venueReadings: number;
      positions: {
        drift: { kind: string; symbol: string; expected: string; actual: string; state: string }[];
        unconfirmed: { kind: string; symbol: string; difference: string }[];
      };
      cash: {
        currency: string;
        expected: string | null;
        actual: string;
        baseline: string;
        drift: { difference: string; state: string } | null;
        unconfirmed: { difference: string } | null;
      };
      resolved: number;
      notes: string[];
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
    // An order of ours is still open: not a quiet moment to take the cash baseline, so cash is not compared.
    expect(first.cash).toMatchObject({ baseline: 'awaiting_quiet_moment', expected: null, drift: null });
    expect(first.notes.join(' ')).toMatch(/cash is not compared until a quiet moment/);
    expect(first.positions.drift).toEqual([]);
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
    // Nothing open, nothing to book: the baseline is taken now, and it is the starting cash.
    expect(second.cash).toMatchObject({ baseline: 'recorded', expected: '99056' });
    expect(second.notes).toEqual([]);
    expect((await sync()).cash.baseline).toBe('kept');
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

  it('records drift seen by two runs in a row, announces it once, keeps it while it lasts, and resolves it', async () => {
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
    // The first run sees the difference once: a fill in flight would look the same, so nothing is recorded.
    const seen = await sync();
    expect(seen.positions.drift).toEqual([]);
    expect(seen.cash.drift).toBeNull();
    expect(seen.positions.unconfirmed).toEqual([
      { kind: 'position', symbol: 'AAPL', expected: '10', actual: '15', difference: '5' },
    ]);
    expect(seen.cash.unconfirmed).toMatchObject({ difference: '500' });
    expect(seen.orders.foreignOpen).toBe(1);
    expect((await events('positions.drift')).length).toBe(before);
    expect(await t.sql`SELECT 1 FROM exchange_drift`).toHaveLength(0);

    const r = await sync();
    expect(r.positions.drift).toEqual([
      { kind: 'position', symbol: 'AAPL', expected: '10', actual: '15', difference: '5', state: 'new' },
    ]);
    expect(r.cash.drift).toMatchObject({ difference: '500', state: 'new' });
    const announced = (await events('positions.drift')).slice(before).map((e) => e.payload);
    expect(announced).toEqual([
      { exchange: 'alpaca', symbol: 'AAPL', expected: '10', actual: '15' },
      { exchange: 'alpaca', symbol: 'USD', expected: r.cash.expected, actual: r.cash.actual },
    ]);

    // unchanged drift: recorded as still there, not announced again
    const again = await sync();
    expect(again.positions.drift[0].state).toBe('ongoing');
    expect(again.cash.drift?.state).toBe('ongoing');
    expect((await events('positions.drift')).length).toBe(before + 2);
    const open = await t.sql<{ kind: string; symbol: string; difference: string }[]>`
      SELECT kind, symbol, difference FROM exchange_drift WHERE resolved_at IS NULL ORDER BY kind`;
    expect(open).toEqual([
      { kind: 'cash', symbol: 'USD', difference: '500' },
      { kind: 'position', symbol: 'AAPL', difference: '5' },
    ]);

    // A new difference replaces the recorded one only once confirmed; then it is announced.
    fake.trading.setPosition('AAPL', '17', '94.4');
    const once = await sync();
    expect(once.positions.drift).toEqual([]);
    expect(once.positions.unconfirmed).toMatchObject([{ symbol: 'AAPL', difference: '7' }]);
    expect((await events('positions.drift')).length).toBe(before + 2);
    const twice = await sync();
    expect(twice.positions.drift).toMatchObject([{ symbol: 'AAPL', difference: '7', state: 'changed' }]);
    expect((await events('positions.drift')).length).toBe(before + 3);

    // the venue comes back in line: resolved at once, history kept
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
    expect(await t.sql`SELECT 1 FROM exchange_drift WHERE resolved_at IS NULL`).toHaveLength(0);
    // every run snapshots the venue's account
    const [{ snaps }] = await t.sql<
      { snaps: number }[]
    >`SELECT count(*)::int AS snaps FROM account_snapshots WHERE exchange = 'alpaca'`;
    expect(snaps).toBeGreaterThanOrEqual(8);
  });

  it('compares nothing while the venue keeps changing between readings, and resumes when it stops', async () => {
    const real = await getExchange('alpaca');
    const moving = Object.create(real) as typeof real;
    // Cash moves before every account reading, as a venue filling all the time would look.
    moving.getAccount = () => {
      fake.trading.cash = fake.trading.cash.plus(1);
      return real.getAccount();
    };
    setExchange('alpaca', moving);
    const before = (await events('positions.drift')).length;
    try {
      const r = await sync();
      expect(r.compared).toBe(false);
      expect(r.venueReadings).toBe(4);
      expect(r.notes.join(' ')).toMatch(/changed between every two of 4 readings/);
      expect(r.positions.drift).toEqual([]);
      expect(r.cash.drift).toBeNull();
      expect(r.cash.baseline).toBe('kept');
    } finally {
      setExchange('alpaca', real);
    }
    expect(await t.sql`SELECT 1 FROM exchange_drift WHERE resolved_at IS NULL`).toHaveLength(0);
    expect(await t.sql`SELECT 1 FROM exchange_drift_sightings`).toHaveLength(0);
    expect((await events('positions.drift')).length).toBe(before);
    // Still, the 4 dollars are real: once the venue holds still they are seen, twice, and recorded.
    expect((await sync()).cash.unconfirmed).toMatchObject({ difference: '4' });
    expect((await sync()).cash.drift).toMatchObject({ difference: '4', state: 'new' });
    fake.trading.cash = fake.trading.cash.minus(4);
    expect((await sync()).resolved).toBe(1);
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

  it('repairs a cash baseline taken with a fill in flight (0203) by taking it again at a quiet moment', async () => {
    type Body = {
      compared: boolean;
      cash: {
        expected: string | null;
        actual: string;
        baseline: string;
        drift: unknown;
        unconfirmed: unknown;
      };
      positions: { drift: unknown[]; unconfirmed: unknown[] };
      notes: string[];
    };
    const sync = async (): Promise<Body> => {
      const res = await invokeHandler(handler, { body: { exchange: 'sim' } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as Body;
    };
    const baselineRows = () =>
      t.sql<
        { cash_baseline: string }[]
      >`SELECT cash_baseline FROM exchange_sync_state WHERE exchange = 'sim'`;
    // What the old first run did when a fill was unbooked at that moment: the fill's amount in the baseline.
    await t.sql`UPDATE exchange_sync_state SET cash_baseline = cash_baseline + 102.5 WHERE exchange = 'sim'`;
    await sync();
    const wrong = await sync();
    expect(wrong.cash.drift).toMatchObject({ difference: '-102.5', state: 'new' });

    const repair = loadMigrations().find((m) => m.version === 203);
    expect(repair?.name).toBe('cash_baseline_reset');
    await t.sql.unsafe(repair!.sql);
    expect(await baselineRows()).toEqual([]);
    expect(await t.sql`SELECT 1 FROM exchange_drift WHERE resolved_at IS NULL`).toHaveLength(0);

    // An order of ours is open at the venue: not a quiet moment, cash is not compared yet.
    const placed = await placeManualOrder(
      pipelineContext(t.sql, nats.bus),
      ManualOrderInput.parse({
        exchange: 'sim',
        symbol: 'SYNCSIM',
        side: 'buy',
        qty: '2',
        timeInForce: 'gtc',
      }),
    );
    expect(placed.order?.status).toBe('new');
    const busy = await sync();
    expect(busy.compared).toBe(true);
    expect(busy.cash).toMatchObject({ baseline: 'awaiting_quiet_moment', expected: null, drift: null });
    expect(busy.notes.join(' ')).toMatch(/quiet moment/);
    expect(busy.positions.drift).toEqual([]);
    expect(await baselineRows()).toEqual([]);

    // The order fills on the next bar and is booked: now nothing is in flight, the baseline is exact.
    await storeBars(t.sql, [bar('SYNCSIM', T0 + 2 * MIN, 22, { open: 21.5 })]);
    setClock(T0 + 3 * MIN + 100);
    const quiet = await sync();
    expect(quiet.cash).toMatchObject({ baseline: 'recorded', drift: null, unconfirmed: null });
    expect(quiet.cash.expected).toBe(quiet.cash.actual);
    expect(quiet.cash.actual).toBe(await simCash(t.sql));
    expect(await baselineRows()).toEqual([{ cash_baseline: '100000' }]);
    const after = await sync();
    expect(after.cash).toMatchObject({ baseline: 'kept', drift: null, unconfirmed: null });
  });
});
