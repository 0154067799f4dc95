/**
 * What the venue says decides two things place-order must get right, tested against the fake Alpaca
 * (its clock and NYSE calendar, its 422 on a reused client_order_id) and the sim:
 *   - stock signals are not acted on while the market is closed (weekend, holiday, overnight); crypto
 *     trades 24/7; a claim resumed after the close is abandoned the same way;
 *   - an order the venue already holds under our client order id is adopted only when it is ours
 *     (symbol, side and size agree); another order under that id fails ours with a clear error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimOrder, getOrder, getSignal, insertSignals } from '../../src/db/index.ts';
import { getExchange, resetExchanges } from '../../src/exchanges/configured.ts';
import { forgetMarketClock } from '../../src/exchanges/market-hours.ts';
import { setLogDestination } from '../../src/log/index.ts';
import {
  clientOrderIdFor,
  ManualOrderInput,
  placeManualOrder,
  placeSignalOrders,
  resumePendingOrder,
} from '../../src/pipeline/index.ts';
import { FakeAlpaca, overrideEnv } from '../../src/testing/fake-alpaca/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import {
  clearClock,
  count,
  makeStrategy,
  pipelineContext,
  RecordingBus,
  setClock,
  useBus,
} from './helpers.ts';

const t = useTestDatabase();
const bus = new RecordingBus();
let fake: FakeAlpaca;
let restoreEnv: () => void = () => {};

/** Saturday 2024-03-09, 10:00 in New York: the market is closed until Monday's open. */
const SATURDAY = Date.parse('2024-03-09T15:00:00Z');
const MONDAY_OPEN = '2024-03-11T13:30:00.000Z';

beforeAll(async () => {
  setLogDestination(() => {}, 'info');
  fake = await FakeAlpaca.start({ cash: '100000', now: SATURDAY });
  restoreEnv = overrideEnv(fake.env());
  await useBus(bus);
  setClock(SATURDAY);
  await makeStrategy(t.sql, {
    name: 'stocks',
    symbols: ['AAPL', 'BTC/USD'],
    exchange: 'alpaca',
    sizing: { type: 'fixed_qty', qty: '1' },
  });
  fake.setPrice('AAPL', 170);
  fake.setPrice('BTC/USD', 60_000);
});
afterAll(async () => {
  clearClock();
  restoreEnv();
  await resetExchanges();
  await fake.close();
});

const ctx = () => pipelineContext(t.sql, bus);

async function signal(symbol: string, barTime: string, price: number): Promise<number> {
  const [s] = await insertSignals(t.sql, [
    { strategy: 'stocks', symbol, timeframe: '1Min', barTime: Date.parse(barTime), side: 'buy', price },
  ]);
  return s.id;
}

/** Moves the venue's clock (and forgets the clock market-hours cached for the adapter). */
async function venueTime(iso: string): Promise<void> {
  fake.setNow(iso);
  setClock(Date.parse(iso));
  forgetMarketClock(await getExchange('alpaca'));
}

describe('market hours', () => {
  it('skips a stock signal while the market is closed, naming the next open; nothing reaches the venue', async () => {
    const id = await signal('AAPL', '2024-03-08T20:59:00Z', 170);
    const [r] = await placeSignalOrders(ctx(), [id]);
    expect(r).toMatchObject({ outcome: 'skipped', reason: `market closed until ${MONDAY_OPEN}` });
    expect(await getSignal(t.sql, id)).toMatchObject({
      status: 'skipped',
      statusReason: `market closed until ${MONDAY_OPEN}`,
    });
    expect(fake.orders().filter((o) => o.symbol === 'AAPL')).toHaveLength(0);
    expect(await count(t.sql, 'orders')).toBe(0);
  });

  it('trades crypto around the clock, weekend included', async () => {
    const id = await signal('BTC/USD', '2024-03-09T14:59:00Z', 60_000);
    const [r] = await placeSignalOrders(ctx(), [id]);
    expect(r.outcome).toBe('ordered');
    expect(fake.orders(r.clientOrderId)).toHaveLength(1);
  });

  it('abandons a claim resumed after the close instead of queueing it for the open', async () => {
    const id = await signal('AAPL', '2024-03-08T20:58:00Z', 170);
    const s = (await getSignal(t.sql, id))!;
    // Claimed on Friday before the close; the process died before the submit.
    const { order } = await claimOrder(t.sql, {
      clientOrderId: clientOrderIdFor('stocks', 'AAPL', s.barTime, 'buy'),
      exchange: 'alpaca',
      strategy: 'stocks',
      signalId: id,
      symbol: 'AAPL',
      side: 'buy',
      type: 'market',
      timeInForce: 'day',
      qty: '1',
    });
    const r = await resumePendingOrder(ctx(), order);
    expect(r).toMatchObject({ outcome: 'skipped', reason: `market closed until ${MONDAY_OPEN}` });
    expect(await getOrder(t.sql, order.id)).toMatchObject({ status: 'failed', errorCode: 'abandoned' });
    expect(fake.orders(order.clientOrderId)).toHaveLength(0);
  });

  it('orders once the session is open, and skips again on a holiday (the venue calendar, not weekdays)', async () => {
    await venueTime('2024-03-11T14:00:00Z');
    const open = await signal('AAPL', '2024-03-11T13:59:00Z', 170);
    const [placed] = await placeSignalOrders(ctx(), [open]);
    expect(placed.outcome).toBe('ordered');
    expect(fake.orders(placed.clientOrderId)).toHaveLength(1);

    await venueTime('2024-07-04T15:00:00Z'); // Independence Day, a Thursday
    const holiday = await signal('AAPL', '2024-07-04T14:59:00Z', 170);
    const [r] = await placeSignalOrders(ctx(), [holiday]);
    expect(r).toMatchObject({ outcome: 'skipped', reason: 'market closed until 2024-07-05T13:30:00.000Z' });
  });
});

describe('an order already at the venue under our client order id', () => {
  const manual = (o: Record<string, unknown>) => placeManualOrder(ctx(), ManualOrderInput.parse(o));
  /** An order placed straight at the sim (by a process that crashed, or by another tool). */
  const atSim = async (clientOrderId: string, qty: string) =>
    (await getExchange('sim')).submitOrder({
      clientOrderId,
      strategy: 'manual',
      signalId: null,
      symbol: 'ACME',
      side: 'buy',
      type: 'market',
      timeInForce: 'gtc',
      qty,
    });

  it('sim: adopts the venue order when it is ours (a submit that landed before a crash)', async () => {
    const atVenue = await atSim('dup-ours', '2');
    const r = await manual({
      exchange: 'sim',
      symbol: 'ACME',
      side: 'buy',
      qty: '2',
      clientOrderId: 'dup-ours',
    });
    expect(r.outcome).toBe('ordered');
    expect(r.order).toMatchObject({ status: 'new', exchangeOrderId: atVenue.id, errorCode: null });
    expect(await count(t.sql, 'sim_orders', `client_order_id = 'dup-ours'`)).toBe(1);
  });

  it('sim: fails ours when the venue order under that id is another (different size), adopting nothing', async () => {
    await atSim('dup-other', '1');
    const r = await manual({
      exchange: 'sim',
      symbol: 'ACME',
      side: 'buy',
      qty: '3',
      clientOrderId: 'dup-other',
    });
    expect(r.outcome).toBe('failed');
    expect(r.order).toMatchObject({
      status: 'failed',
      errorCode: 'duplicate_client_order_id',
      exchangeOrderId: null,
    });
    expect(r.order?.errorMessage).toBe(
      'the venue already has a different order under client_order_id dup-other (buy 1 ACME; ours: buy 3 ACME)',
    );
    expect(await count(t.sql, 'sim_orders', `client_order_id = 'dup-other'`)).toBe(1);
  });

  it('alpaca: the 422 for an id another order holds fails ours; the venue keeps that one order', async () => {
    await venueTime('2024-03-12T15:00:00Z');
    fake.setPrice('MSFT', 400);
    // Another tool on the same account placed an order under the id we are about to use.
    await (await getExchange('alpaca')).submitOrder({
      clientOrderId: 'dup-alpaca',
      strategy: 'elsewhere',
      signalId: null,
      symbol: 'MSFT',
      side: 'buy',
      type: 'market',
      timeInForce: 'day',
      qty: '1',
    });
    const r = await manual({ symbol: 'AAPL', side: 'buy', qty: '1', clientOrderId: 'dup-alpaca' });
    expect(r.outcome).toBe('failed');
    expect(r.order).toMatchObject({ status: 'failed', errorCode: 'duplicate_client_order_id' });
    expect(r.order?.errorMessage).toMatch(/\(buy 1 MSFT; ours: buy 1 AAPL\)$/);
    expect(fake.orders('dup-alpaca')).toHaveLength(1);
    expect(fake.orders('dup-alpaca')[0].symbol).toBe('MSFT');
    expect(fake.requestsTo('POST /v2/orders').filter((q) => q.outcome === 422).length).toBeGreaterThan(0);
  });
});
