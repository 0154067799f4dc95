/**
 * A position's exits rest at the venue (protect-positions): one protective order per book, the stop and
 * the take-profit as one one-cancels-other order, moved as the trailing level rises, cancelled —
 * confirmed — before any other closing order, and filled by the venue inside the bar at the level, as
 * the backtester fills. On the real PostgreSQL and the simulated exchange, through the pipeline's own
 * functions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parityReport } from '../../src/backtest/index.ts';
import { getOrder, getPosition, listTrades, openProtectiveOrder, restingExits } from '../../src/db/index.ts';
import { getExchange, setExchange } from '../../src/exchanges/configured.ts';
import { ExchangeError } from '../../src/exchanges/index.ts';
import { createSimExchange } from '../../src/exchanges/sim/index.ts';
import { syncOrders } from '../../src/order-sync/index.ts';
import {
  cancelOrder,
  effectivePosition,
  generateSignals,
  haltTrading,
  placeManualOrder,
  placeSignalOrders,
  protectiveClientOrderId,
  protectPositions,
  recordTrades,
  resumeTrading,
} from '../../src/pipeline/index.ts';
import type { Exits } from '../../src/schemas/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import {
  bar,
  barsFrom,
  CROSS_UP,
  clearClock,
  MIN,
  makeStrategy,
  pipelineContext,
  RecordingBus,
  setClock,
  storeBars,
  useBus,
} from './helpers.ts';

const T0 = Date.UTC(2024, 7, 5, 15, 0);

describe('resting protective orders', () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  const ctx = () => pipelineContext(t.sql, bus, 'protect');
  beforeAll(async () => {
    await useBus(bus);
  });
  afterAll(() => clearClock());

  /** SMA buys 10 on CROSS_UP's last bar; the order fills at the next bar's open, 104 (bar 9: 103.5–104.5). */
  async function openLong(symbol: string, name: string, exits: Exits, exchange = 'sim'): Promise<void> {
    await storeBars(t.sql, barsFrom(symbol, T0, CROSS_UP));
    await makeStrategy(t.sql, { name, symbols: [symbol], exits, allowShort: true, exchange });
    setClock(T0 + CROSS_UP.length * MIN + 1000);
    const { signalIds } = await generateSignals(ctx(), { strategies: [name] });
    const [placed] = await placeSignalOrders(ctx(), signalIds);
    expect(placed.outcome).toBe('ordered');
    await storeBars(t.sql, [bar(symbol, T0 + 9 * MIN, 104, { open: 104, high: 104.5, low: 103.5 })]);
    setClock(T0 + 10 * MIN + 500);
    await recordTrades(ctx(), { orderIds: [placed.orderId!] });
    expect(await getPosition(t.sql, name, symbol)).toMatchObject({ qty: '10', avgPrice: '104' });
  }

  /** Stores the bar at minute `i` and lets its close pass; returns the signals the strategies took. */
  async function barCloses(
    symbol: string,
    i: number,
    b: { open: number; high: number; low: number; close: number },
  ) {
    await storeBars(t.sql, [bar(symbol, T0 + i * MIN, b.close, b)]);
    setClock(T0 + (i + 1) * MIN + 500);
    // The strategies run on it, as the pipeline runs them on each new bar.
    return (await generateSignals(ctx(), { symbols: [symbol] })).signalIds;
  }

  const protect = async (name: string) => (await protectPositions(ctx(), { strategies: [name] })).books;

  it('rests stop-loss and take-profit as one oco exit that the venue fills inside the bar at the stop', async () => {
    await openLong('OCOA', 'oco-a', { stopLoss: 0.05, takeProfit: 0.1 });
    const [placed] = await protect('oco-a');
    expect(placed).toMatchObject({ action: 'placed', stopPrice: '98.8', takeProfit: '114.4' });
    const order = (await getOrder(t.sql, placed.orderId!))!;
    expect(order).toMatchObject({
      protective: true,
      orderClass: 'oco',
      type: 'limit',
      side: 'sell',
      qty: '10',
      stopRule: 'stop_loss',
      status: 'new',
      clientOrderId: protectiveClientOrderId('oco-a', 'OCOA', 0),
    });
    // What the positions views show for the book.
    expect((await restingExits(t.sql, [{ strategy: 'oco-a', symbol: 'OCOA' }])).get('oco-a|OCOA')).toEqual({
      orderId: order.id,
      type: 'limit',
      orderClass: 'oco',
      stopPrice: '98.8',
      takeProfit: '114.4',
      stopRule: 'stop_loss',
      status: 'new',
    });
    // Not a planned change of the position: an entry decision still sees 10 long.
    expect(await effectivePosition(t.sql, 'oco-a', 'OCOA')).toBe('10');
    // The venue holds the quantity: a second sale of the same shares is refused there.
    const venue = await getExchange('sim');
    await expect(
      venue.submitOrder({
        clientOrderId: 'protect-test-dup-sell',
        strategy: 'oco-a',
        signalId: null,
        symbol: 'OCOA',
        side: 'sell',
        type: 'market',
        timeInForce: 'gtc',
        qty: '10',
      }),
    ).rejects.toBeInstanceOf(ExchangeError);
    // A resting exit does not keep the order sync from finding a quiet moment (its cash baseline), and
    // books and venue agree on the position.
    const sync = await syncOrders(ctx(), { exchange: 'sim' });
    expect(sync.compared).toBe(true);
    expect(sync.cash.baseline).toBe('recorded');
    expect(sync.positions.drift).toEqual([]);
    // Nothing to move: a second run keeps it.
    expect((await protect('oco-a'))[0]).toMatchObject({ action: 'kept', orderId: order.id });

    // A bar through both levels: the stop is taken (pessimistic), at 98.8 inside the bar.
    // The bar-close watch leaves the covered exits to the resting order: no exit signal as well.
    expect(await barCloses('OCOA', 10, { open: 103, high: 115, low: 97, close: 99 })).toEqual([]);
    const [after] = await protect('oco-a');
    expect(after.action).toBe('none');
    expect(await getOrder(t.sql, order.id)).toMatchObject({ status: 'filled', filledAvgPrice: '98.8' });
    expect(await getPosition(t.sql, 'oco-a', 'OCOA')).toMatchObject({ qty: '0', realizedPnl: '-52' });
    const { items } = await listTrades(t.sql, { strategy: 'oco-a' });
    expect(items.map((x) => [x.side, x.qty, x.price])).toEqual([
      ['sell', '10', '98.8'],
      ['buy', '10', '104'],
    ]);
    // The backtest over the same bars takes the same stop on the same bar at the same price: parity
    // reports the resting order's fill as the live exit, matched.
    const report = await parityReport(t.sql, {
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 10 * MIN).toISOString(),
      strategies: ['oco-a'],
    });
    const [p] = report.strategies;
    expect(p.differences).toEqual([]);
    expect(p.fills).toEqual({ live: 2, backtest: 2, matched: 2 });
    expect(p.signals).toMatchObject({ live: 2, matched: 2 });
  });

  it('fills the take-profit at its limit when only the target is reached', async () => {
    await openLong('OCOB', 'oco-b', { stopLoss: 0.05, takeProfit: 0.02 });
    expect((await protect('oco-b'))[0]).toMatchObject({ action: 'placed', takeProfit: '106.08' });
    await barCloses('OCOB', 10, { open: 104.2, high: 106.5, low: 104, close: 106 });
    await protect('oco-b');
    expect(await getPosition(t.sql, 'oco-b', 'OCOB')).toMatchObject({ qty: '0', realizedPnl: '20.8' });
  });

  it('moves a trailing stop up with new highs: cancel confirmed, then one new order', async () => {
    await openLong('TRAIL', 'trail-5', { trailingStop: 0.05 });
    // Best price since entry 104.5 (bar 9's high): stop 99.275, on the cent grid towards the market.
    const [first] = await protect('trail-5');
    expect(first).toMatchObject({ action: 'placed', stopPrice: '99.28', takeProfit: null });
    expect(await getOrder(t.sql, first.orderId!)).toMatchObject({ type: 'stop', stopRule: 'trailing_stop' });
    await barCloses('TRAIL', 10, { open: 104.5, high: 110, low: 104.4, close: 109 });
    const [moved] = await protect('trail-5');
    expect(moved).toMatchObject({ action: 'replaced', stopPrice: '104.5' });
    expect(moved.orderId).not.toBe(first.orderId);
    expect(await getOrder(t.sql, first.orderId!)).toMatchObject({ status: 'canceled' });
    expect(moved.clientOrderId).toBe(protectiveClientOrderId('trail-5', 'TRAIL', 1));
    const live = await t.sql`
      SELECT count(*)::int AS n FROM orders WHERE strategy = 'trail-5' AND protective AND status = 'new'`;
    expect(live[0].n).toBe(1);
    // A lower high moves nothing.
    await barCloses('TRAIL', 11, { open: 109, high: 109.5, low: 107, close: 108 });
    expect((await protect('trail-5'))[0]).toMatchObject({ action: 'kept', orderId: moved.orderId });
    // Down through 104.5: the venue sells at the stop, inside the bar.
    await barCloses('TRAIL', 12, { open: 107, high: 107, low: 103, close: 103.5 });
    await protect('trail-5');
    expect(await getOrder(t.sql, moved.orderId!)).toMatchObject({
      status: 'filled',
      filledAvgPrice: '104.5',
    });
    expect(await getPosition(t.sql, 'trail-5', 'TRAIL')).toMatchObject({ qty: '0', realizedPnl: '5' });
    const [p] = (
      await parityReport(t.sql, {
        from: new Date(T0).toISOString(),
        to: new Date(T0 + 12 * MIN).toISOString(),
        strategies: ['trail-5'],
      })
    ).strategies;
    expect(p.differences).toEqual([]);
    expect(p.fills).toMatchObject({ matched: 2 });
  });

  it('closes at market when the last close is already past the new level', async () => {
    await openLong('PAST', 'past-5', { trailingStop: 0.05 });
    expect((await protect('past-5'))[0].action).toBe('placed');
    // A spike to 120 and a close at 113: the trailing level (114) is above the market.
    await barCloses('PAST', 10, { open: 105, high: 120, low: 104.8, close: 113 });
    const [closing] = await protect('past-5');
    expect(closing.action).toBe('closing');
    expect(await getOrder(t.sql, closing.orderId!)).toMatchObject({
      type: 'market',
      protective: true,
      qty: '10',
    });
    await barCloses('PAST', 11, { open: 112, high: 112.5, low: 111, close: 112 });
    await protect('past-5');
    expect(await getPosition(t.sql, 'past-5', 'PAST')).toMatchObject({ qty: '0', realizedPnl: '80' });
  });

  it("cancels the resting order before a person's sale of the book, and never sells twice", async () => {
    await openLong('HAND', 'hand-5', { stopLoss: 0.05 });
    const [rest] = await protect('hand-5');
    expect(rest.action).toBe('placed');
    // The book lives on the strategy's venue: a sale sent elsewhere is refused, and releases nothing.
    await expect(
      placeManualOrder(ctx(), {
        strategy: 'hand-5',
        exchange: 'alpaca',
        symbol: 'HAND',
        side: 'sell',
        type: 'market',
        timeInForce: 'gtc',
        qty: '10',
      }),
    ).rejects.toMatchObject({ status: 400, fields: { 'order.exchange': 'hand-5 trades on sim' } });
    expect(await getOrder(t.sql, rest.orderId!)).toMatchObject({ status: 'new' });
    const r = await placeManualOrder(ctx(), {
      strategy: 'hand-5',
      symbol: 'HAND',
      side: 'sell',
      type: 'market',
      timeInForce: 'gtc',
      qty: '10',
    });
    expect(r.outcome).toBe('ordered');
    expect(await getOrder(t.sql, rest.orderId!)).toMatchObject({ status: 'canceled' });
    // While the sale is open, protection waits for it rather than resting a second sell.
    expect((await protect('hand-5'))[0].action).toBe('waiting');
    await barCloses('HAND', 10, { open: 100, high: 100, low: 90, close: 91 });
    await recordTrades(ctx(), { orderIds: [r.order!.id] });
    expect(await getPosition(t.sql, 'hand-5', 'HAND')).toMatchObject({ qty: '0' });
    expect((await protect('hand-5'))[0]?.action ?? 'none').toBe('none');
    const sells =
      await t.sql`SELECT count(*)::int AS n FROM trades WHERE strategy = 'hand-5' AND side = 'sell'`;
    expect(sells[0].n).toBe(1);
  });

  it("releases the resting order for the strategy's own sell, and puts it back when that is refused", async () => {
    await openLong('BACK', 'back-5', { stopLoss: 0.05 });
    const [rest] = await protect('back-5');
    await barCloses('BACK', 10, { open: 104, high: 104.5, low: 103, close: 104 });
    const [signal] = await t.sql<{ id: number }[]>`
      INSERT INTO signals (strategy, symbol, timeframe, bar_time, side, price, reason, status)
      VALUES ('back-5', 'BACK', '1Min', ${new Date(T0 + 10 * MIN)}, 'sell', 104, 'test', 'new') RETURNING id`;
    // The strategy may short, so its sell reverses: 20. The venue takes no short sales and refuses —
    // after the protection was released (else it would have refused for the held quantity alone).
    const [placed] = await placeSignalOrders(ctx(), [signal.id]);
    expect(placed.outcome).toBe('failed');
    expect(placed.reason).toContain('requested: 20, available: 10');
    expect(await getOrder(t.sql, rest.orderId!)).toMatchObject({ status: 'canceled' });
    // Nothing went out, so the position is protected again before the book is let go.
    const back = await openProtectiveOrder(t.sql, 'back-5', 'BACK');
    expect(back).toMatchObject({ stopPrice: '98.8', side: 'sell', qty: '10', status: 'new' });
    expect(back!.id).not.toBe(rest.orderId);
    expect((await protect('back-5'))[0]).toMatchObject({ action: 'kept', orderId: back!.id });
  });

  it('keeps the resting exit through a halt, and releases it when the kill switch flattens', async () => {
    await openLong('HALT', 'halt-5', { stopLoss: 0.05 });
    const [rest] = await protect('halt-5');
    const halted = await haltTrading(ctx(), { scope: 'strategy:halt-5', reason: 'test' });
    expect(halted.canceled).toEqual([]);
    expect(await getOrder(t.sql, rest.orderId!)).toMatchObject({ status: 'new' });
    const flat = await haltTrading(ctx(), { scope: 'strategy:halt-5', reason: 'test', flatten: true });
    expect(flat.errors).toEqual([]);
    expect(flat.closing).toHaveLength(1);
    expect(flat.closing[0]).toMatchObject({ outcome: 'ordered', order: { side: 'sell', qty: '10' } });
    expect(await getOrder(t.sql, rest.orderId!)).toMatchObject({ status: 'canceled' });
    await resumeTrading(ctx(), 'strategy:halt-5');
  });

  it('protects a short with a buy-side oco: the stop above, the target below', async () => {
    // A short of 10 at 100 (booked as the pipeline would), on bars around 100.
    await storeBars(t.sql, [
      bar('SHRT', T0, 100, { open: 100, high: 100.5, low: 99.5 }),
      bar('SHRT', T0 + MIN, 99, { open: 100, high: 100.2, low: 98.5 }),
    ]);
    await makeStrategy(t.sql, {
      name: 'short-5',
      symbols: ['SHRT'],
      exits: { stopLoss: 0.05, takeProfit: 0.1 },
      allowShort: true,
    });
    await t.sql`
      INSERT INTO positions (strategy, symbol, qty, avg_price, realized_pnl, opened_at)
      VALUES ('short-5', 'SHRT', -10, 100, 0, ${new Date(T0 + 1000)})`;
    setClock(T0 + 2 * MIN + 500);
    const [placed] = await protect('short-5');
    expect(placed).toMatchObject({ action: 'placed', stopPrice: '105', takeProfit: '90' });
    expect(await getOrder(t.sql, placed.orderId!)).toMatchObject({
      side: 'buy',
      orderClass: 'oco',
      qty: '10',
    });
    // A bar up through 105 triggers the stop: bought back at the stop, inside the bar.
    await storeBars(t.sql, [bar('SHRT', T0 + 2 * MIN, 104, { open: 100, high: 106, low: 99.8 })]);
    setClock(T0 + 3 * MIN + 500);
    await protect('short-5');
    expect(await getOrder(t.sql, placed.orderId!)).toMatchObject({ status: 'filled', filledAvgPrice: '105' });
    expect(await getPosition(t.sql, 'short-5', 'SHRT')).toMatchObject({ qty: '0', realizedPnl: '-50' });
  });

  it('wakes protect-positions for books with exits only: on their trades and on each new bar', async () => {
    const due = () =>
      bus.published.filter((e) => e.type === 'protection.due').map((e) => e.payload as { books: unknown[] });
    const before = due().length;
    await openLong('WAKE', 'wake-5', { stopLoss: 0.05 });
    // The entry's trade names the book.
    expect(
      due()
        .slice(before)
        .map((p) => p.books),
    ).toEqual([[{ strategy: 'wake-5', symbol: 'WAKE' }]]);
    await barCloses('WAKE', 10, { open: 104, high: 104.5, low: 103, close: 104 });
    expect(due().at(-1)?.books).toEqual([{ strategy: 'wake-5', symbol: 'WAKE' }]);
    // A strategy without exits holding a position wakes nothing.
    const quiet = due().length;
    await openLong('NOEX', 'no-exits', {});
    await barCloses('NOEX', 10, { open: 104, high: 104.5, low: 103, close: 104 });
    expect(
      due()
        .slice(quiet)
        .flatMap((p) => p.books),
    ).not.toContainEqual(expect.objectContaining({ strategy: 'no-exits' }));
    expect((await protect('no-exits')).length).toBe(0);
  });

  it('never rests two orders for one book, however many runs race', async () => {
    await openLong('RACE', 'race-5', { stopLoss: 0.05, takeProfit: 0.1 });
    const runs = await Promise.all([
      protect('race-5'),
      protect('race-5'),
      protect('race-5'),
      protect('race-5'),
    ]);
    const actions = runs.map((r) => r[0].action).sort();
    expect(actions).toEqual(['kept', 'kept', 'kept', 'placed']);
    const venueOpen = await t.sql`
      SELECT count(*)::int AS n FROM sim_orders WHERE symbol = 'RACE' AND status IN ('new', 'partially_filled')`;
    expect(venueOpen[0].n).toBe(1);

    // A person's sale racing a protect run: one sale, the position closed once, nothing left resting.
    const [sale] = await Promise.all([
      placeManualOrder(ctx(), {
        strategy: 'race-5',
        symbol: 'RACE',
        side: 'sell',
        type: 'market',
        timeInForce: 'gtc',
        qty: '10',
      }),
      protect('race-5'),
    ]);
    expect(sale.outcome).toBe('ordered');
    await barCloses('RACE', 10, { open: 104, high: 104.2, low: 103.8, close: 104 });
    await recordTrades(ctx(), { orderIds: [sale.order!.id] });
    await protect('race-5');
    expect(await getPosition(t.sql, 'race-5', 'RACE')).toMatchObject({ qty: '0' });
    const sells =
      await t.sql`SELECT count(*)::int AS n FROM trades WHERE strategy = 'race-5' AND side = 'sell'`;
    expect(sells[0].n).toBe(1);
    const resting = await t.sql`
      SELECT count(*)::int AS n FROM sim_orders WHERE symbol = 'RACE' AND status IN ('new', 'partially_filled')`;
    expect(resting[0].n).toBe(0);
  });

  it('rests the take-profit alone where no stop order can rest, and watches the stop at bar close', async () => {
    // A venue that takes no stop orders (as Alpaca for crypto, or CCXT): the sim's account, so it holds
    // what the sim holds, saying so through restingExits.
    const venue = Object.assign(createSimExchange({ name: 'nostop' }), {
      restingExits: async () => ({ stop: false, oco: false }),
    });
    setExchange('nostop', venue);
    await openLong('NOST', 'nostop-5', { stopLoss: 0.05, takeProfit: 0.1 }, 'nostop');
    const [placed] = await protect('nostop-5');
    expect(placed).toMatchObject({ action: 'placed', stopPrice: null, takeProfit: '114.4' });
    expect(await getOrder(t.sql, placed.orderId!)).toMatchObject({ type: 'limit', orderClass: 'simple' });
    // A bar through the stop: the bar-close watch covers what does not rest, and stores the exit.
    const ids = await barCloses('NOST', 10, { open: 103, high: 103.5, low: 98, close: 98.5 });
    expect(ids).toHaveLength(1);
    const [exit] = await placeSignalOrders(ctx(), ids);
    // Placing it cancels the resting take-profit first (both would sell the same shares).
    expect(exit.outcome).toBe('ordered');
    expect(await getOrder(t.sql, exit.orderId!)).toMatchObject({ side: 'sell', qty: '10', type: 'market' });
    expect(await getOrder(t.sql, placed.orderId!)).toMatchObject({ status: 'canceled' });
    const signal = await t.sql`SELECT exit_rule FROM signals WHERE id = ${ids[0]}`;
    expect(signal[0].exit_rule).toBe('stop_loss');
  });

  it("keeps a person's cancel: the resting exit stays off for that position, watched at bar close", async () => {
    await openLong('GONE', 'gone-5', { stopLoss: 0.05 });
    const [rest] = await protect('gone-5');
    const canceled = await cancelOrder(ctx(), rest.orderId!);
    expect(canceled).toMatchObject({ status: 'canceled', errorCode: 'canceled_by_person' });
    expect((await protect('gone-5'))[0]).toMatchObject({ action: 'paused' });
    expect(await openProtectiveOrder(t.sql, 'gone-5', 'GONE')).toBeNull();
    // The exit still acts, at bar close, as the bar-close watch stores it.
    const ids = await barCloses('GONE', 10, { open: 103, high: 103.5, low: 98, close: 98.5 });
    expect(ids).toHaveLength(1);
    const [signal] = await t.sql`SELECT exit_rule FROM signals WHERE id = ${ids[0]}`;
    expect(signal.exit_rule).toBe('stop_loss');
  });
});
