/**
 * A strategy that asks for a limit (or stop) order gets that order in live trading, as in the backtest:
 * generate-signals stores its hint with the signal, place-order sends it, the simulated exchange fills
 * it only where a bar traded at the price. A malformed hint is reported by the strategy's name and
 * reason and stops only that strategy. On the real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { getOrder, getPosition, getSignal, listSignals } from '../../src/db/index.ts';
import { generateSignals, placeSignalOrders, recordTrades } from '../../src/pipeline/index.ts';
import {
  BUY,
  defineStrategy,
  HOLD,
  loadStrategy,
  type OrderHint,
  type StrategyModule,
} from '../../src/strategies/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import {
  bar,
  clearClock,
  MIN,
  makeStrategy,
  pipelineContext,
  RecordingBus,
  setClock,
  storeBars,
  useBus,
} from './helpers.ts';

const T0 = Date.UTC(2024, 6, 3, 15, 0);

/** Buys on the bar at T0 + 2 min with the order `hint(close)`; holds otherwise. */
const buyer = (name: string, hint: (close: number) => unknown): StrategyModule =>
  defineStrategy({
    name,
    description: 'buys once, with its own order',
    params: z.object({}),
    warmup: () => 0,
    create: () => {
      let last: unknown = null;
      return {
        next(b) {
          if (b.time !== T0 + 2 * MIN) return HOLD;
          last = hint(b.close);
          return BUY;
        },
        order: () => last as OrderHint,
      };
    },
  });

const modules: Record<string, StrategyModule> = {
  'limit-buyer': buyer('limit-buyer', (close) => ({
    type: 'limit',
    limitPrice: close - 1,
    timeInForce: 'gtc',
  })),
  'bad-hint': buyer('bad-hint', () => ({ type: 'limit' })),
};
const load = async (name: string) => modules[name] ?? loadStrategy(name);

describe("a strategy's own order in live trading", () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  const ctx = () => pipelineContext(t.sql, bus, 'hints');
  beforeAll(async () => {
    await useBus(bus);
  });
  afterAll(() => clearClock());

  it('is stored with the signal, sent as asked, and filled only where a bar reaches its price', async () => {
    await storeBars(
      t.sql,
      [0, 1, 2].map((i) => bar('HINT', T0 + i * MIN, 100, { open: 100 })),
    );
    await makeStrategy(t.sql, { name: 'dip', module: 'limit-buyer', symbols: ['HINT'] });
    setClock(T0 + 3 * MIN + 1000);
    const { signalIds } = await generateSignals(ctx(), { strategies: ['dip'] }, { loadStrategy: load });
    expect(signalIds).toHaveLength(1);
    expect(await getSignal(t.sql, signalIds[0])).toMatchObject({
      side: 'buy',
      order: { type: 'limit', limitPrice: 99, timeInForce: 'gtc' },
    });
    expect((await listSignals(t.sql, { strategy: 'dip' })).items[0]).toMatchObject({
      order: { type: 'limit', limitPrice: 99, timeInForce: 'gtc' },
    });

    const [placed] = await placeSignalOrders(ctx(), signalIds);
    expect(placed.outcome).toBe('ordered');
    const id = placed.orderId!;
    expect(await getOrder(t.sql, id)).toMatchObject({
      type: 'limit',
      limitPrice: '99',
      stopPrice: null,
      timeInForce: 'gtc',
      qty: '10',
    });
    // A bar that stays above the limit leaves it working.
    await storeBars(t.sql, [bar('HINT', T0 + 3 * MIN, 100, { open: 100, low: 99.5 })]);
    setClock(T0 + 4 * MIN + 500);
    await recordTrades(ctx(), { orderIds: [id] });
    expect((await getOrder(t.sql, id))?.filledQty).toBe('0');
    // One that trades through it fills at the limit, not at the bar's low.
    await storeBars(t.sql, [bar('HINT', T0 + 4 * MIN, 99, { open: 99.8, low: 98.5, high: 100 })]);
    setClock(T0 + 5 * MIN + 500);
    await recordTrades(ctx(), { orderIds: [id] });
    expect(await getOrder(t.sql, id)).toMatchObject({ status: 'filled', filledAvgPrice: '99' });
    expect(await getPosition(t.sql, 'dip', 'HINT')).toMatchObject({ qty: '10', avgPrice: '99' });
  });

  it('a malformed hint stops that strategy for the run, by name and reason, and stores nothing', async () => {
    await storeBars(
      t.sql,
      [0, 1, 2].map((i) => bar('BADH', T0 + i * MIN, 50, { open: 50 })),
    );
    await makeStrategy(t.sql, { name: 'bad', module: 'bad-hint', symbols: ['BADH'] });
    setClock(T0 + 3 * MIN + 1000);
    const r = await generateSignals(ctx(), { strategies: ['bad'] }, { loadStrategy: load });
    expect(r.strategies[0]).toMatchObject({
      name: 'bad',
      status: 'error',
      reason: 'order() returned a limit order without a positive limitPrice on BADH',
    });
    expect(r.signalIds).toEqual([]);
    expect((await listSignals(t.sql, { strategy: 'bad' })).items).toEqual([]);
  });
});
