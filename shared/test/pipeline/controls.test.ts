/** Sizing rules, and the controls the API uses: close a position, cancel an order. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOrder, getPosition } from '../../src/db/index.ts';
import { getExchange } from '../../src/exchanges/configured.ts';
import {
  cancelOrder,
  closePosition,
  ManualOrderInput,
  placeManualOrder,
  sizeSignal,
  syncOpenOrders,
} from '../../src/pipeline/index.ts';
import { HttpError } from '../../src/runtime/index.ts';
import type { Signal, StrategyConfig } from '../../src/schemas/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import {
  bar,
  clearClock,
  count,
  MIN,
  pipelineContext,
  RecordingBus,
  setClock,
  storeBars,
  useBus,
} from './helpers.ts';

const T0 = Date.UTC(2025, 4, 5, 10, 0);

describe('sizing a signal', () => {
  useTestDatabase();
  const signal = (side: 'buy' | 'sell'): Signal => ({
    id: 1,
    strategy: 'sized',
    symbol: 'SIZE',
    timeframe: '1Min',
    barTime: new Date(T0).toISOString(),
    side,
    price: 104,
    reason: null,
    status: 'new',
    statusReason: null,
    createdAt: new Date(T0).toISOString(),
  });
  const strategy = (over: Partial<StrategyConfig>): StrategyConfig => ({
    id: 1,
    name: 'sized',
    module: 'sma-crossover',
    description: '',
    params: {},
    enabled: true,
    symbols: ['SIZE'],
    timeframe: '1Min',
    exchange: 'sim',
    sizing: { type: 'fixed_qty', qty: '10' },
    exits: {},
    allowShort: false,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...over,
  });
  beforeAll(() => setClock(T0));
  afterAll(() => clearClock());

  it('sizes entries by fixed quantity, fixed notional and percent of equity', async () => {
    const sim = await getExchange('sim');
    expect(await sizeSignal(signal('buy'), strategy({}), '0', sim)).toEqual({ qty: '10' });
    const notional = strategy({ sizing: { type: 'fixed_notional', notional: '1000' } });
    expect(await sizeSignal(signal('buy'), notional, '0', sim)).toEqual({ qty: '9.615384' }); // 1000 / 104, down to the lot
    const percent = strategy({ sizing: { type: 'percent_equity', percent: 10 } });
    expect(await sizeSignal(signal('buy'), percent, '0', sim)).toEqual({ qty: '96.153846' }); // 10% of 100000 / 104
    const broken = strategy({ sizing: { type: 'fixed_qty', qty: '-1' } as never });
    expect(await sizeSignal(signal('buy'), broken, '0', sim)).toEqual({
      skip: 'strategy sizing is invalid: sizing.qty: must be greater than 0',
    });
  });

  it('closes longs on SELL, covers shorts on BUY, and reverses only when shorting is allowed', async () => {
    const sim = await getExchange('sim');
    const longOnly = strategy({});
    const shorts = strategy({ allowShort: true });
    expect(await sizeSignal(signal('sell'), longOnly, '7', sim)).toEqual({ qty: '7' });
    expect(await sizeSignal(signal('sell'), longOnly, '0', sim)).toEqual({
      skip: 'no long position to sell (shorting not allowed)',
    });
    expect(await sizeSignal(signal('buy'), longOnly, '7', sim)).toEqual({ skip: 'already long 7' });
    expect(await sizeSignal(signal('buy'), longOnly, '-4', sim)).toEqual({ qty: '4' });
    expect(await sizeSignal(signal('sell'), shorts, '0', sim)).toEqual({ qty: '10' });
    expect(await sizeSignal(signal('sell'), shorts, '7', sim)).toEqual({ qty: '17' });
    expect(await sizeSignal(signal('buy'), shorts, '-4', sim)).toEqual({ qty: '14' });
    expect(await sizeSignal(signal('sell'), shorts, '-4', sim)).toEqual({ skip: 'already short -4' });
  });
});

describe('position and order controls', () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  const ctx = () => pipelineContext(t.sql, bus, 'controls');
  beforeAll(async () => {
    await useBus(bus);
    await storeBars(t.sql, [bar('CTRL', T0, 40)]);
    setClock(T0 + MIN + 500);
  });
  afterAll(() => clearClock());

  it('closes a position once, however often it is asked, and refuses when flat', async () => {
    await placeManualOrder(
      ctx(),
      ManualOrderInput.parse({ symbol: 'CTRL', side: 'buy', qty: '5', timeInForce: 'gtc' }),
    );
    await storeBars(t.sql, [bar('CTRL', T0 + MIN, 41, { open: 40.5 })]);
    setClock(T0 + 2 * MIN + 500);
    await syncOpenOrders(ctx(), { apply: true });
    const [a, b] = await Promise.all([
      closePosition(ctx(), 'manual', 'CTRL'),
      closePosition(ctx(), 'manual', 'CTRL'),
    ]);
    expect(a.order?.id).toBe(b.order?.id);
    expect(a.order).toMatchObject({ side: 'sell', qty: '5', type: 'market' });
    expect(await count(t.sql, 'sim_orders', `side = 'sell' AND symbol = 'CTRL'`)).toBe(1);
    await storeBars(t.sql, [bar('CTRL', T0 + 2 * MIN, 42, { open: 41.5 })]);
    setClock(T0 + 3 * MIN + 500);
    await syncOpenOrders(ctx(), { apply: true });
    expect(await getPosition(t.sql, 'manual', 'CTRL')).toMatchObject({ qty: '0', realizedPnl: '5' }); // 5 × (41.5 − 40.5)
    const flat = await closePosition(ctx(), 'manual', 'CTRL').catch((e) => e);
    expect(flat).toBeInstanceOf(HttpError);
    expect(flat).toMatchObject({ status: 409 });
  });

  it('cancels an open order at the exchange, and answers 409 for a final one, 404 for an unknown one', async () => {
    const placed = await placeManualOrder(
      ctx(),
      ManualOrderInput.parse({
        symbol: 'CTRL',
        side: 'buy',
        qty: '1',
        type: 'limit',
        limitPrice: '30',
        timeInForce: 'gtc',
      }),
    );
    const canceled = await cancelOrder(ctx(), placed.order!.id);
    expect(canceled.status).toBe('canceled');
    expect((await (await getExchange('sim')).getOrderByClientId(placed.order!.clientOrderId))?.status).toBe(
      'canceled',
    );
    expect(
      bus
        .ofType('orders.updated')
        .some(
          (e) => (e.payload as { orders: { id: number; status: string }[] }).orders[0].status === 'canceled',
        ),
    ).toBe(true);
    await expect(cancelOrder(ctx(), placed.order!.id)).rejects.toMatchObject({ status: 409 });
    await expect(cancelOrder(ctx(), 999_999)).rejects.toMatchObject({
      status: 404,
      fields: { orderId: 'not found' },
    });
    expect((await getOrder(t.sql, placed.order!.id))?.status).toBe('canceled');
  });
});
