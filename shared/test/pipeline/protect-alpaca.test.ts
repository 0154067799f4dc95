/**
 * Resting protective orders on Alpaca, end to end: the pipeline's own functions (place-order,
 * record-trade, protect-positions) on the real PostgreSQL, the real Alpaca SDK and the fake Alpaca over
 * HTTP. The stop and the take-profit rest as one OCO order, a trailing stop is moved by cancelling the
 * resting stop at the venue before the new one is sent, and a person's sale of the book first cancels
 * the protective order there — so the venue never holds two sells of the same shares.
 */
import type { trading } from '@alpacahq/alpaca-trade-api/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOrder, getPosition, listTrades, openProtectiveOrder } from '../../src/db/index.ts';
import {
  effectivePosition,
  placeManualOrder,
  protectiveClientOrderId,
  protectPositions,
  recordTrades,
  registerExchangeOptions,
  resetExchanges,
} from '../../src/pipeline/index.ts';
import type { Exits } from '../../src/schemas/index.ts';
import { FakeAlpaca, overrideEnv } from '../../src/testing/fake-alpaca/index.ts';
import type { VenueRoute } from '../../src/testing/fake-venue/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import {
  bar,
  clearClock,
  count,
  MIN,
  makeStrategy,
  pipelineContext,
  RecordingBus,
  setClock,
  storeBars,
  useBus,
} from './helpers.ts';

/** A POST /v2/orders as the fake received it, and the orders of its symbol live at the venue just before. */
interface Posted {
  body: Record<string, unknown>;
  liveBefore: trading.Order[];
}

/** The fake Alpaca, also keeping each order request's body (the fake's request log has none). */
class RecordingAlpaca extends FakeAlpaca {
  readonly posted: Posted[] = [];

  static async begin(): Promise<RecordingAlpaca> {
    const f = new RecordingAlpaca();
    await f.listen();
    return f;
  }

  /** Open orders of `symbol` at the venue, an OCO pair once (as the adapter lists them). */
  live(symbol: string): trading.Order[] {
    return this.trading.listOrders(new URLSearchParams({ status: 'open', nested: 'true', symbols: symbol }));
  }

  protected override routes(): VenueRoute<'required' | 'optional'>[] {
    return super.routes().map((r) =>
      r.id !== 'POST /v2/orders'
        ? r
        : {
            ...r,
            handle: (req) => {
              const symbol = typeof req.body.symbol === 'string' ? req.body.symbol.toUpperCase() : '';
              this.posted.push({ body: structuredClone(req.body), liveBefore: this.live(symbol) });
              return r.handle(req);
            },
          },
    );
  }
}

/** Inside a regular session (Tuesday 10:00 New York): the fake's default clock. */
const T0 = Date.parse('2024-03-05T15:00:00Z');

describe('resting protective orders on Alpaca', () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  const ctx = () => pipelineContext(t.sql, bus, 'protect-alpaca');
  let fake: RecordingAlpaca;
  let restoreEnv: () => void = () => {};

  beforeAll(async () => {
    fake = await RecordingAlpaca.begin();
    // The default venue stays the sim: every call below must reach Alpaca because the strategy names it.
    restoreEnv = overrideEnv({ ...fake.env(), WEAVER_EXCHANGE: 'sim' });
    // Test-speed retries, and no pacing by the SDK's 190-a-minute token bucket.
    registerExchangeOptions('alpaca', () => ({
      rateLimit: { maxRequests: 1_000_000, intervalMs: 1000 },
      retry: { maxRetries: 3, initialDelayMs: 2, maxDelayMs: 20 },
    }));
    await useBus(bus);
  });
  afterAll(async () => {
    clearClock();
    await resetExchanges();
    restoreEnv();
    await fake?.close();
  });

  /** Moves the venue's clock and Weaver's together. */
  function at(ms: number): void {
    fake.setNow(ms);
    setClock(ms);
  }

  /** Stores the completed bar of minute `start` and makes it the venue's price. */
  async function barCloses(
    symbol: string,
    start: number,
    b: { open: number; high: number; low: number; close: number },
  ): Promise<void> {
    await storeBars(t.sql, [bar(symbol, start, b.close, b)]);
    at(start + MIN + 5_000);
    fake.setPrice(symbol, b.close);
  }

  /**
   * A strategy on Alpaca holding 10 `symbol` bought by hand at `price`, `t` seconds into minute `start`:
   * flat bars at `price` before it, the venue's price at `price`, the buy placed on the strategy's book
   * and its fill recorded.
   */
  async function openLong(
    name: string,
    symbol: string,
    exits: Exits,
    start: number,
    price: number,
    qty = '10',
  ): Promise<void> {
    await makeStrategy(t.sql, { name, symbols: [symbol], exits, exchange: 'alpaca' });
    await storeBars(
      t.sql,
      [5, 4, 3, 2, 1].map((k) =>
        bar(symbol, start - k * MIN, price, { open: price, high: price, low: price }),
      ),
    );
    at(start + 10_000);
    fake.setPrice(symbol, price);
    const r = await placeManualOrder(ctx(), {
      strategy: name,
      exchange: 'alpaca',
      symbol,
      side: 'buy',
      type: 'market',
      timeInForce: 'day',
      qty,
    });
    expect(r.outcome).toBe('ordered');
    expect(r.order).toMatchObject({ exchange: 'alpaca', protective: false });
    expect(fake.orders(r.order!.clientOrderId)).toHaveLength(1);
    await recordTrades(ctx(), { orderIds: [r.order!.id] });
    expect(await getOrder(t.sql, r.order!.id)).toMatchObject({ status: 'filled', filledQty: qty });
    expect(await getPosition(t.sql, name, symbol)).toMatchObject({ qty, avgPrice: String(price) });
  }

  const protect = async (name: string) => (await protectPositions(ctx(), { strategies: [name] })).books;
  const sells = (strategy: string) => count(t.sql, 'trades', `strategy = '${strategy}' AND side = 'sell'`);
  /** Index in the fake's request log of each request to `route` from `from` on. */
  const indexes = (route: string, from: number): number[] =>
    fake.requests.flatMap((r, i) => (i >= from && r.route === route ? [i] : []));

  it('rests stop-loss and take-profit as one OCO at Alpaca, and books its stop-out once', async () => {
    await openLong('oco-alpaca', 'AAPL', { stopLoss: 0.05, takeProfit: 0.1 }, T0, 200.13);
    const posts = fake.requestsTo('POST /v2/orders').length;

    // stop 200.13 × 0.95 = 190.1235 and take profit 200.13 × 1.1 = 220.143, each on the cent towards
    // the market (the adapter alone would send 190.12, the nearest cent, and 220.15, up for a sell limit).
    const [placed] = await protect('oco-alpaca');
    expect(placed).toMatchObject({ action: 'placed', stopPrice: '190.13', takeProfit: '220.14' });
    const cid = protectiveClientOrderId('oco-alpaca', 'AAPL', 0);
    expect(placed.clientOrderId).toBe(cid);
    expect(fake.requestsTo('POST /v2/orders')).toHaveLength(posts + 1);
    const sent = fake.posted.at(-1)!;
    expect(sent.body).toMatchObject({
      client_order_id: cid,
      symbol: 'AAPL',
      side: 'sell',
      type: 'limit',
      qty: '10',
      time_in_force: 'gtc',
      order_class: 'oco',
      take_profit: { limit_price: '220.14' },
      stop_loss: { stop_price: '190.13' },
    });
    expect(sent.liveBefore).toEqual([]);

    const [venue] = fake.orders(cid);
    expect(venue).toMatchObject({ orderClass: 'oco', limitPrice: '220.14', status: 'new' });
    const leg = venue.legs![0];
    expect(leg).toMatchObject({ type: 'stop', stopPrice: '190.13', qty: '10', status: 'new' });
    const order = (await getOrder(t.sql, placed.orderId!))!;
    expect(order).toMatchObject({
      exchange: 'alpaca',
      exchangeOrderId: venue.id,
      clientOrderId: cid,
      protective: true,
      orderClass: 'oco',
      type: 'limit',
      side: 'sell',
      qty: '10',
      timeInForce: 'gtc',
      limitPrice: '220.14',
      stopPrice: '190.13',
      stopRule: 'stop_loss',
      status: 'new',
    });
    expect(fake.live('AAPL').map((o) => o.id)).toEqual([venue.id]);
    // A resting exit is not a planned change of the position.
    expect(await effectivePosition(t.sql, 'oco-alpaca', 'AAPL')).toBe('10');

    // Nothing moved: the second run keeps it, and the venue hears of no new order nor a cancel.
    const requests = fake.requests.length;
    expect((await protect('oco-alpaca'))[0]).toMatchObject({ action: 'kept', orderId: order.id });
    expect(indexes('POST /v2/orders', requests)).toEqual([]);
    expect(indexes('DELETE /v2/orders/{id}', requests)).toEqual([]);

    // The price gaps through the stop: the venue sells at 189.50 and cancels the take-profit.
    await barCloses('AAPL', T0, { open: 200.13, high: 200.5, low: 189.5, close: 189.5 });
    expect(leg).toMatchObject({ status: 'filled', filledQty: '10', filledAvgPrice: '189.5' });
    expect(venue.status).toBe('canceled');
    const [after] = await protect('oco-alpaca');
    expect(after.action).toBe('none');
    expect(await getOrder(t.sql, order.id)).toMatchObject({
      status: 'filled',
      filledQty: '10',
      filledAvgPrice: '189.5',
    });
    expect(await getPosition(t.sql, 'oco-alpaca', 'AAPL')).toMatchObject({ qty: '0', realizedPnl: '-106.3' });
    // Booked once, however often it is looked at again.
    await recordTrades(ctx(), { orderIds: [order.id] });
    expect(await protect('oco-alpaca')).toEqual([]);
    const { items } = await listTrades(t.sql, { strategy: 'oco-alpaca' });
    expect(items.map((x) => [x.side, x.qty, x.price])).toEqual([
      ['sell', '10', '189.5'],
      ['buy', '10', '200.13'],
    ]);
    expect(fake.live('AAPL')).toEqual([]);
    expect(fake.trading.positions.get('AAPL')?.qty.toString()).toBe('0');
    expect(fake.requestsTo('POST /v2/orders')).toHaveLength(posts + 1);
  });

  it('moves a trailing stop at Alpaca: the resting stop is cancelled there before the new one is sent', async () => {
    const start = T0 + 10 * MIN;
    await openLong('trail-alpaca', 'MSFT', { trailingStop: 0.05 }, start, 100);
    await barCloses('MSFT', start, { open: 100, high: 101, low: 99.8, close: 100.8 });

    // Best price since entry 101: the stop at 95.95.
    const [first] = await protect('trail-alpaca');
    expect(first).toMatchObject({ action: 'placed', stopPrice: '95.95', takeProfit: null });
    const firstRow = (await getOrder(t.sql, first.orderId!))!;
    expect(firstRow).toMatchObject({ type: 'stop', orderClass: 'simple', stopRule: 'trailing_stop' });
    expect(fake.posted.at(-1)!.body).toMatchObject({
      client_order_id: protectiveClientOrderId('trail-alpaca', 'MSFT', 0),
      side: 'sell',
      type: 'stop',
      qty: '10',
      stop_price: '95.95',
    });

    // A new high of 110: the stop moves to 104.50.
    await barCloses('MSFT', start + MIN, { open: 100.8, high: 110, low: 100.7, close: 109 });
    const from = fake.requests.length;
    const [moved] = await protect('trail-alpaca');
    expect(moved).toMatchObject({ action: 'replaced', stopPrice: '104.5' });
    expect(moved.clientOrderId).toBe(protectiveClientOrderId('trail-alpaca', 'MSFT', 1));
    const deletes = indexes('DELETE /v2/orders/{id}', from);
    const posts = indexes('POST /v2/orders', from);
    expect(deletes.map((i) => fake.requests[i].path)).toEqual([`/v2/orders/${firstRow.exchangeOrderId}`]);
    expect(posts).toHaveLength(1);
    expect(deletes[0]).toBeLessThan(posts[0]);
    const sent = fake.posted.at(-1)!;
    expect(sent.body).toMatchObject({ type: 'stop', stop_price: '104.5', qty: '10', side: 'sell' });
    // When the new stop arrived the old one was no longer working there.
    expect(sent.liveBefore).toEqual([]);
    expect(fake.orders(firstRow.clientOrderId)[0].status).toBe('canceled');
    expect(await getOrder(t.sql, first.orderId!)).toMatchObject({ status: 'canceled' });
    const movedRow = (await getOrder(t.sql, moved.orderId!))!;
    expect(fake.live('MSFT').map((o) => o.id)).toEqual([movedRow.exchangeOrderId]);
    expect(await openProtectiveOrder(t.sql, 'trail-alpaca', 'MSFT')).toMatchObject({ id: moved.orderId });

    // A lower high moves nothing.
    await barCloses('MSFT', start + 2 * MIN, { open: 109, high: 109.5, low: 107, close: 108 });
    const quiet = fake.requests.length;
    expect((await protect('trail-alpaca'))[0]).toMatchObject({ action: 'kept', orderId: moved.orderId });
    expect(indexes('POST /v2/orders', quiet)).toEqual([]);
    expect(indexes('DELETE /v2/orders/{id}', quiet)).toEqual([]);

    // Down through 104.50: the venue sells (at 104, where the price is).
    await barCloses('MSFT', start + 3 * MIN, { open: 108, high: 108, low: 104, close: 104 });
    expect((await protect('trail-alpaca'))[0].action).toBe('none');
    expect(await getOrder(t.sql, moved.orderId!)).toMatchObject({ status: 'filled', filledAvgPrice: '104' });
    expect(await getPosition(t.sql, 'trail-alpaca', 'MSFT')).toMatchObject({ qty: '0', realizedPnl: '40' });
    expect(await sells('trail-alpaca')).toBe(1);
    // Never two protective orders of the book working at the venue: each arrived to none.
    const msft = fake.posted.filter((p) => p.body.symbol === 'MSFT' && p.body.side === 'sell');
    expect(msft).toHaveLength(2);
    for (const p of msft) expect(p.liveBefore).toEqual([]);
    expect(fake.live('MSFT')).toEqual([]);
  });

  it("cancels the OCO at Alpaca before a person's sale of the book, and sells once", async () => {
    const start = T0 + 20 * MIN;
    await openLong('hand-alpaca', 'SPY', { stopLoss: 0.05, takeProfit: 0.1 }, start, 400);
    const [rest] = await protect('hand-alpaca');
    expect(rest).toMatchObject({ action: 'placed', stopPrice: '380', takeProfit: '440' });
    const restRow = (await getOrder(t.sql, rest.orderId!))!;
    expect(fake.live('SPY').map((o) => o.id)).toEqual([restRow.exchangeOrderId]);

    await barCloses('SPY', start, { open: 400, high: 401.5, low: 399.5, close: 401 });
    const from = fake.requests.length;
    const r = await placeManualOrder(ctx(), {
      strategy: 'hand-alpaca',
      exchange: 'alpaca',
      symbol: 'SPY',
      side: 'sell',
      type: 'market',
      timeInForce: 'day',
      qty: '10',
    });
    // Accepted: the venue no longer held the 10 shares for the OCO when the sale arrived.
    expect(r).toMatchObject({ outcome: 'ordered', reason: null });
    expect(r.order).toMatchObject({ protective: false, status: 'filled', filledQty: '10', errorCode: null });
    const deletes = indexes('DELETE /v2/orders/{id}', from);
    const posts = indexes('POST /v2/orders', from);
    expect(deletes.map((i) => fake.requests[i].path)).toEqual([`/v2/orders/${restRow.exchangeOrderId}`]);
    expect(posts).toHaveLength(1);
    expect(deletes[0]).toBeLessThan(posts[0]);
    const sale = fake.posted.at(-1)!;
    expect(sale.body).toMatchObject({
      client_order_id: r.order!.clientOrderId,
      side: 'sell',
      type: 'market',
      qty: '10',
    });
    expect(sale.liveBefore).toEqual([]);
    const [oco] = fake.orders(restRow.clientOrderId);
    expect(oco.status).toBe('canceled');
    expect(oco.legs![0].status).toBe('canceled');
    expect(await getOrder(t.sql, restRow.id)).toMatchObject({ status: 'canceled', filledQty: '0' });

    // Recorded again, protected again: still one sale, no protection put back, nothing more sent.
    await recordTrades(ctx(), { orderIds: [r.order!.id, restRow.id] });
    expect(await protect('hand-alpaca')).toEqual([]);
    expect(await getPosition(t.sql, 'hand-alpaca', 'SPY')).toMatchObject({ qty: '0', realizedPnl: '10' });
    expect(await sells('hand-alpaca')).toBe(1);
    expect(await openProtectiveOrder(t.sql, 'hand-alpaca', 'SPY')).toBeNull();
    const filledSells = fake
      .orders()
      .filter((o) => o.symbol === 'SPY' && o.side === 'sell' && o.status === 'filled');
    expect(filledSells.map((o) => o.clientOrderId)).toEqual([r.order!.clientOrderId]);
    expect(fake.trading.positions.get('SPY')?.qty.toString()).toBe('0');
    expect(fake.live('SPY')).toEqual([]);
    expect(indexes('POST /v2/orders', from)).toHaveLength(1);
  });

  it("rests a fractional position's stop alone, as a day order (Alpaca takes no fractional oco)", async () => {
    await openLong('frac-alpaca', 'BRK.B', { stopLoss: 0.05, takeProfit: 0.1 }, T0 + 60 * MIN, 400, '0.5');
    const [placed] = await protect('frac-alpaca');
    expect(placed).toMatchObject({ action: 'placed', stopPrice: '380', takeProfit: null });
    expect(fake.posted.at(-1)!.body).toMatchObject({
      type: 'stop',
      qty: '0.5',
      side: 'sell',
      time_in_force: 'day',
      stop_price: '380',
    });
    expect(fake.posted.at(-1)!.body).not.toHaveProperty('order_class', 'oco');
    expect(await openProtectiveOrder(t.sql, 'frac-alpaca', 'BRK.B')).toMatchObject({
      type: 'stop',
      orderClass: 'simple',
      status: 'new',
    });
  });
});
