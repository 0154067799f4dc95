/**
 * A strategy's exits act in live trading: generate-signals checks each new bar against the book's open
 * position and stores an exit signal when the bar reaches the stop-loss, the trailing stop or the
 * take-profit; place-order turns it into an order that closes the position and never reverses it. On
 * the real PostgreSQL and the simulated exchange, through the same functions the pipeline runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parityReport } from '../../src/backtest/index.ts';
import { clearHalts, getOrder, getPosition, getSignal, listSignals, recordHalt } from '../../src/db/index.ts';
import { generateSignals, placeSignalOrders, recordTrades } from '../../src/pipeline/index.ts';
import type { Exits } from '../../src/schemas/index.ts';
import { exitHit, mergeExits } from '../../src/strategies/index.ts';
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

const T0 = Date.UTC(2024, 6, 2, 15, 0);

describe('exit levels', () => {
  it('reads a bar as the backtester does: stop before target, the higher stop wins, shorts mirrored', () => {
    const bothInside = { high: 111, low: 94 };
    expect(exitHit(true, 100, 100, bothInside, { stopLoss: 0.05, takeProfit: 0.1 })).toEqual({
      rule: 'stop_loss',
      level: 95,
    });
    expect(exitHit(true, 100, 100, { high: 111, low: 96 }, { stopLoss: 0.05, takeProfit: 0.1 })).toEqual({
      rule: 'take_profit',
      level: 100 * 1.1,
    });
    // A trailing stop above the fixed one is the stop that counts.
    expect(exitHit(true, 100, 120, { high: 119, low: 113 }, { stopLoss: 0.05, trailingStop: 0.05 })).toEqual({
      rule: 'trailing_stop',
      level: 114,
    });
    expect(exitHit(true, 100, 120, { high: 119, low: 114.5 }, { trailingStop: 0.05 })).toBeNull();
    expect(exitHit(false, 100, 100, { high: 105.5, low: 89 }, { stopLoss: 0.05, takeProfit: 0.1 })).toEqual({
      rule: 'stop_loss',
      level: 105,
    });
    expect(exitHit(false, 100, 80, { high: 84.5, low: 79 }, { trailingStop: 0.05 })).toEqual({
      rule: 'trailing_stop',
      level: 84,
    });
    expect(exitHit(true, 100, 100, bothInside, {})).toBeNull();
  });

  it("lets a strategy configuration's exits win over the module's defaults", () => {
    expect(mergeExits({ stopLoss: 0.1, takeProfit: 0.2 }, { stopLoss: 0.03 })).toEqual({
      stopLoss: 0.03,
      takeProfit: 0.2,
    });
  });
});

describe('exits in live trading', () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  const ctx = () => pipelineContext(t.sql, bus, 'exits');
  beforeAll(async () => {
    await useBus(bus);
  });
  afterAll(() => clearClock());

  /** The SMA strategy buys 10 on CROSS_UP's last bar; the order fills at the next bar's open, 104. */
  async function openLong(symbol: string, name: string, exits: Exits): Promise<void> {
    await storeBars(t.sql, barsFrom(symbol, T0, CROSS_UP));
    await makeStrategy(t.sql, { name, symbols: [symbol], exits, allowShort: true });
    setClock(T0 + CROSS_UP.length * MIN + 1000);
    const { signalIds } = await generateSignals(ctx(), { strategies: [name] });
    expect(signalIds).toHaveLength(1);
    const [placed] = await placeSignalOrders(ctx(), signalIds);
    expect(placed.outcome).toBe('ordered');
    await storeBars(t.sql, [bar(symbol, T0 + 9 * MIN, 104, { open: 104, high: 104.5, low: 103.5 })]);
    setClock(T0 + 10 * MIN + 500);
    await recordTrades(ctx(), { orderIds: [placed.orderId!] });
    expect(await getPosition(t.sql, name, symbol)).toMatchObject({ qty: '10', avgPrice: '104' });
  }

  /** Stores the bar at minute `i`, runs generate-signals as its close passes; returns the new signals. */
  async function barCloses(
    symbol: string,
    name: string,
    i: number,
    b: { open: number; high: number; low: number; close: number },
  ) {
    await storeBars(t.sql, [bar(symbol, T0 + i * MIN, b.close, b)]);
    setClock(T0 + (i + 1) * MIN + 500);
    const { signalIds } = await generateSignals(ctx(), { strategies: [name] });
    return Promise.all(signalIds.map(async (id) => (await getSignal(t.sql, id))!));
  }

  it('a bar through the stop-loss closes the long in full, and does not turn it short', async () => {
    await openLong('STOP', 'stop-5', { stopLoss: 0.05 });
    // Entry 104: the stop is at 98.8. A bar that stays above it does nothing.
    expect(await barCloses('STOP', 'stop-5', 10, { open: 104, high: 104.5, low: 99, close: 103 })).toEqual(
      [],
    );
    const [exit] = await barCloses('STOP', 'stop-5', 11, { open: 103, high: 103, low: 98, close: 98.5 });
    expect(exit).toMatchObject({
      side: 'sell',
      exit: 'stop_loss',
      barTime: new Date(T0 + 11 * MIN).toISOString(),
    });
    expect(exit.reason).toContain('reached 98.8');
    // Trading halted (the kill switch, a daily loss limit): an exit only reduces, so it still goes out.
    const now = new Date(T0 + 12 * MIN).toISOString();
    await recordHalt(t.sql, { scope: 'global', reason: 'kill switch', until: null, now });
    const [placed] = await placeSignalOrders(ctx(), [exit.id]);
    await clearHalts(t.sql, 'global', now);
    expect(placed.outcome).toBe('ordered');
    // Shorting is allowed, yet the exit only closes: 10, not 10 + an entry.
    expect(await getOrder(t.sql, placed.orderId!)).toMatchObject({ side: 'sell', qty: '10', type: 'market' });
    await storeBars(t.sql, [bar('STOP', T0 + 12 * MIN, 98, { open: 98 })]);
    setClock(T0 + 13 * MIN + 500);
    await recordTrades(ctx(), { orderIds: [placed.orderId!] });
    expect(await getPosition(t.sql, 'stop-5', 'STOP')).toMatchObject({ qty: '0', realizedPnl: '-60' });
    // Flat now: later bars below the old stop raise nothing.
    expect(await barCloses('STOP', 'stop-5', 13, { open: 97, high: 97.5, low: 90, close: 91 })).toEqual([]);

    // The parity report replays the same bars: the backtest took the same stop on the same bar, filled
    // inside it at the level, where live trading ordered at its close.
    const report = await parityReport(t.sql, {
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 13 * MIN).toISOString(),
      strategies: ['stop-5'],
    });
    const [p] = report.strategies;
    const at11 = new Date(T0 + 11 * MIN).toISOString();
    expect(
      p.differences.filter((d) => d.kind === 'signal' && d.live?.side === 'sell' && d.barTime === at11),
    ).toEqual([]);
    expect(p.differences.find((d) => d.kind === 'fill' && d.barTime === at11)).toMatchObject({
      live: { side: 'sell', qty: 10, price: 98 },
      backtest: { side: 'sell', qty: 10, price: 98.8 },
      cause: expect.stringContaining(
        'an exit (stop loss): the backtest fills at the level inside the bar, 98.8',
      ),
    });
  });

  it('a trailing stop follows the highest high since entry, across runs', async () => {
    await openLong('TRAIL', 'trail-5', { trailingStop: 0.05 });
    expect(await barCloses('TRAIL', 'trail-5', 10, { open: 104, high: 120, low: 103, close: 119 })).toEqual(
      [],
    );
    // The high-water mark (120) comes from the stored bars, not from this run's: the stop is 114.
    const [exit] = await barCloses('TRAIL', 'trail-5', 11, {
      open: 119,
      high: 119.5,
      low: 113.5,
      close: 115,
    });
    expect(exit).toMatchObject({ side: 'sell', exit: 'trailing_stop' });
    expect(exit.reason).toContain('reached 114');
    const listed = (await listSignals(t.sql, { strategy: 'trail-5', limit: 1 })).items[0];
    expect(listed).toMatchObject({ id: exit.id, exit: 'trailing_stop' });
  });

  it('a take-profit closes a long; a signal with no position left to close is skipped', async () => {
    await openLong('TAKE', 'take-10', { takeProfit: 0.1 });
    const [exit] = await barCloses('TAKE', 'take-10', 10, { open: 105, high: 115, low: 104.5, close: 112 });
    expect(exit).toMatchObject({ side: 'sell', exit: 'take_profit' });
    // The position is closed by hand before place-order sees the exit.
    await t.sql`UPDATE positions SET qty = 0 WHERE strategy = 'take-10' AND symbol = 'TAKE'`;
    const [r] = await placeSignalOrders(ctx(), [exit.id]);
    expect(r).toMatchObject({ outcome: 'skipped', reason: 'take profit: no long position left to close' });
  });
});
