import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy, latestBarTime, listTrades } from '../../src/db/index.ts';
import {
  alignDown,
  DEMO_BACKFILL_BARS,
  DEMO_STRATEGY,
  DEMO_SYMBOLS,
  DemoMarket,
  ensureDemo,
} from '../../src/demo/index.ts';
import { fetchBars, generateSignals, placeSignalOrders, recordTrades } from '../../src/pipeline/index.ts';
import { Bar as BarSchema, TIMEFRAMES } from '../../src/schemas/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { clearClock, count, MIN, pipelineContext, RecordingBus, setClock, useBus } from './helpers.ts';

describe('demo market generator', () => {
  const market = new DemoMarket();
  const t0 = Date.UTC(2025, 0, 6, 13, 0);

  it('is deterministic and computes any range on its own (same bars whatever the request)', () => {
    const whole = market.bars('ACME', '1Min', t0, t0 + 299 * MIN);
    const parts = [
      ...new DemoMarket().bars('ACME', '1Min', t0, t0 + 99 * MIN),
      ...new DemoMarket().bars('ACME', '1Min', t0 + 100 * MIN, t0 + 299 * MIN),
    ];
    expect(whole).toHaveLength(300);
    expect(parts).toEqual(whole);
    expect(new DemoMarket().barAt('ACME', '1Min', t0 + 250 * MIN)).toEqual(whole[250]);
    // a different seed is a different market
    expect(new DemoMarket({ seed: 7 }).barAt('ACME', '1Min', t0)).not.toEqual(whole[0]);
  });

  it('produces valid, continuous, realistic OHLCV bars aligned to their timeframe', () => {
    for (const symbol of DEMO_SYMBOLS) {
      const bars = market.bars(symbol, '1Min', t0, t0 + 1439 * MIN);
      for (const [i, b] of bars.entries()) {
        expect(BarSchema.safeParse(b).success).toBe(true);
        expect(Date.parse(b.time) % MIN).toBe(0);
        if (i > 0) expect(b.open).toBe(bars[i - 1].close); // each bar opens where the last closed
        expect(Number.isInteger(b.volume) && b.volume > 0).toBe(true);
        expect(Math.round(b.close * 100)).toBeCloseTo(b.close * 100, 6); // cents
      }
      const moves = bars.slice(1).map((b, i) => Math.abs(Math.log(b.close / bars[i].close)));
      const typical = moves.reduce((a, b) => a + b, 0) / moves.length;
      expect(typical).toBeGreaterThan(0.00005); // it moves …
      expect(typical).toBeLessThan(0.005); // … like a stock, not a lottery
    }
    for (const tf of TIMEFRAMES) {
      const start = alignDown(t0 + 17 * 86_400_000, tf);
      const b = market.barAt('GLOBEX', tf, start);
      expect(BarSchema.safeParse(b).success).toBe(true);
    }
    // a 5Min bar aggregates the five 1Min bars of its interval
    const five = market.barAt('INITECH', '5Min', t0);
    const ones = market.bars('INITECH', '1Min', t0, t0 + 4 * MIN);
    expect(five).toMatchObject({
      open: ones[0].open,
      close: ones[4].close,
      high: Math.max(...ones.map((o) => o.high)),
      low: Math.min(...ones.map((o) => o.low)),
      volume: ones.reduce((a, o) => a + o.volume, 0),
    });
    // weeks start on Monday 00:00 UTC
    expect(new Date(alignDown(Date.UTC(2025, 0, 9, 12), '1Week')).toISOString()).toBe(
      '2025-01-06T00:00:00.000Z',
    );
  });
});

describe('ensureDemo and the first demo trade', () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  beforeAll(async () => {
    await useBus(bus);
  });
  afterAll(() => clearClock());

  it('creates the demo strategy once and backfills only missing history', async () => {
    const now = Date.UTC(2025, 1, 3, 9, 30, 20);
    const first = await ensureDemo(t.sql, { now });
    expect(first.created).toBe(true);
    expect(first.barsWritten).toBe(DEMO_BACKFILL_BARS * DEMO_SYMBOLS.length);
    expect(first.strategy).toMatchObject({
      name: DEMO_STRATEGY,
      module: 'sma-crossover',
      enabled: true,
      exchange: 'sim',
      // Its exits rest at the venue while it holds a position (protect-positions).
      exits: { stopLoss: 0.02, takeProfit: 0.04 },
    });
    expect(await latestBarTime(t.sql, 'ACME', '1Min')).toBe(Date.UTC(2025, 1, 3, 9, 29));
    const again = await ensureDemo(t.sql, { now });
    expect(again).toMatchObject({ created: false, barsWritten: 0 });
    // a later start fills the gap only
    const later = await ensureDemo(t.sql, { now: now + 5 * MIN });
    expect(later.barsWritten).toBe(5 * DEMO_SYMBOLS.length);
    expect(await count(t.sql, 'strategies')).toBe(1);
    expect((await getStrategy(t.sql, DEMO_STRATEGY))?.params).toEqual({ fast: 3, slow: 8 });
  });

  /**
   * The runner's default is 30x: a 1Min bar every 2 s, so "a trade within a minute of start" means
   * within 30 simulated minutes; 28 leaves the pipeline's own time. Each start is a fresh demo.
   */
  it('trades within 28 simulated minutes of any start', async () => {
    const starts = [Date.UTC(2025, 2, 3, 14, 0), Date.UTC(2025, 4, 17, 2, 13), Date.UTC(2025, 7, 9, 21, 41)];
    const waits: number[] = [];
    for (const [n, start] of starts.entries()) {
      await t.sql`TRUNCATE bars, strategies, strategy_cursors, signals, orders, order_status_history, fills, trades,
        positions, sim_accounts, sim_orders, sim_positions, sim_fills CASCADE`;
      await ensureDemo(t.sql, { now: start });
      const ctx = pipelineContext(t.sql, bus, `first-trade-${n}`);
      let minute = 0;
      while ((await listTrades(t.sql)).items.length === 0 && minute < 40) {
        minute++;
        setClock(start + minute * MIN + 500);
        await fetchBars(ctx, {});
        const changed = bus
          .ofType('orders.updated')
          .map((e) => (e.payload as { orders: { id: number }[] }).orders[0].id);
        if (changed.length) await recordTrades(ctx, { orderIds: [...new Set(changed)] });
        const { signalIds } = await generateSignals(ctx, {});
        if (signalIds.length) await placeSignalOrders(ctx, signalIds);
        bus.published.length = 0;
      }
      waits.push(minute);
    }
    expect(Math.max(...waits)).toBeLessThanOrEqual(28);
  });
});
