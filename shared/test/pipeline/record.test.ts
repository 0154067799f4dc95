import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fillsOfOrder,
  getOrder,
  getPosition,
  insertFill,
  listTrades,
  orderHistory,
} from '../../src/db/index.ts';
import { getExchange, resetExchanges, setExchange } from '../../src/exchanges/configured.ts';
import { createSimExchange, simCash } from '../../src/exchanges/sim/index.ts';
import {
  bookFill,
  bookUnbookedFills,
  ManualOrderInput,
  placeManualOrder,
  recordTrades,
  reduces,
} from '../../src/pipeline/index.ts';
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

describe('booking a fill (exact decimals)', () => {
  it('opens, adds at the weighted average, reduces, closes and flips, realising P&L less fees', () => {
    let h = { qty: '0', avgPrice: '0' };
    let b = bookFill(h, 'buy', '10', '100', '1');
    expect(b).toEqual({ qty: '10', avgPrice: '100', realized: '-1', opened: true });
    h = b;
    b = bookFill(h, 'buy', '5', '103.3');
    expect(b).toMatchObject({ qty: '15', avgPrice: '101.1', realized: '0', opened: false });
    h = b;
    b = bookFill(h, 'sell', '6', '102.1', '0.5'); // 6 × (102.1 − 101.1) − 0.5
    expect(b).toMatchObject({ qty: '9', avgPrice: '101.1', realized: '5.5' });
    h = b;
    b = bookFill(h, 'sell', '12', '100.1'); // closes 9 at −1 each, opens 3 short at 100.1
    expect(b).toMatchObject({ qty: '-3', avgPrice: '100.1', realized: '-9', opened: true });
    h = b;
    b = bookFill(h, 'buy', '3', '99.6'); // short covered 0.5 better
    expect(b).toMatchObject({ qty: '0', avgPrice: '0', realized: '1.5', opened: false });
    expect(bookFill({ qty: '0.1', avgPrice: '0.2' }, 'buy', '0.2', '0.1').avgPrice).toBe('0.1333333333');
  });

  it('tells a reducing order from an opening one', () => {
    expect(reduces('10', '-4')).toBe(true);
    expect(reduces('10', '-10')).toBe(true);
    expect(reduces('10', '-11')).toBe(false); // flips
    expect(reduces('10', '1')).toBe(false);
    expect(reduces('0', '-1')).toBe(false);
    expect(reduces('-5', '5')).toBe(true);
  });
});

describe('record-trade: fills from cumulative changes', () => {
  const t = useTestDatabase();
  const bus = new RecordingBus();
  const ctx = () => pipelineContext(t.sql, bus, 'record');
  const T0 = Date.UTC(2024, 10, 4, 16, 0);
  beforeAll(async () => {
    await useBus(bus);
  });
  afterAll(async () => {
    clearClock();
    await resetExchanges();
  });

  it('books partial fills as they come, once each, under redelivery and concurrency', async () => {
    // A venue that lets an order take 10% of a bar's volume: 10 shares over bars of volume 40, 40, 20.
    setExchange('sim', createSimExchange({ maxVolumeShare: 0.1 }));
    await storeBars(t.sql, [bar('PART', T0, 50, { open: 50 })]);
    setClock(T0 + MIN + 500);
    const placed = await placeManualOrder(
      ctx(),
      ManualOrderInput.parse({ symbol: 'PART', side: 'buy', qty: '10', timeInForce: 'gtc' }),
    );
    const id = placed.order!.id;
    const steps = [
      { open: 50.1, volume: 40, filled: '4', status: 'partially_filled' },
      { open: 50.4, volume: 40, filled: '8', status: 'partially_filled' },
      { open: 50.25, volume: 20, filled: '10', status: 'filled' },
    ];
    for (const [i, s] of steps.entries()) {
      await storeBars(t.sql, [bar('PART', T0 + (i + 1) * MIN, s.open, { open: s.open, volume: s.volume })]);
      setClock(T0 + (i + 2) * MIN + 500);
      // delivered three times at once, then once more
      await Promise.all([1, 2, 3].map(() => recordTrades(ctx(), { orderIds: [id] })));
      await recordTrades(ctx(), { orderIds: [id] });
      expect(await getOrder(t.sql, id)).toMatchObject({ status: s.status, filledQty: s.filled });
    }
    const fills = await fillsOfOrder(t.sql, id);
    expect(fills.map((f) => [f.qty, f.price])).toEqual([
      ['4', '50.1'],
      ['4', '50.4'],
      ['2', '50.25'],
    ]);
    const trades = (await listTrades(t.sql, { symbol: 'PART' })).items.reverse();
    expect(trades.map((tr) => tr.positionAfter)).toEqual(['4', '8', '10']);
    // 4 × 50.1 + 4 × 50.4 + 2 × 50.25 = 502.5 → average 50.25, and the venue's cash agrees to the cent
    expect(await getPosition(t.sql, 'manual', 'PART')).toMatchObject({ qty: '10', avgPrice: '50.25' });
    expect(await simCash(t.sql)).toBe('99497.5');
    expect((await getOrder(t.sql, id))?.filledAvgPrice).toBe('50.25');
    expect((await orderHistory(t.sql, id)).map((h) => h.status)).toEqual([
      'pending_submit',
      'new',
      'partially_filled',
      'filled',
    ]);
    expect(bus.ofType('trades.recorded')).toHaveLength(3);
  });

  it('books a sale against the position with its realised P&L', async () => {
    const placed = await placeManualOrder(
      ctx(),
      ManualOrderInput.parse({ symbol: 'PART', side: 'sell', qty: '4', timeInForce: 'gtc' }),
    );
    await storeBars(t.sql, [bar('PART', T0 + 4 * MIN, 51, { open: 51, volume: 1000 })]);
    setClock(T0 + 5 * MIN + 500);
    const r = await recordTrades(ctx(), { orderIds: [placed.order!.id] });
    expect(r.tradeIds).toHaveLength(1);
    const [trade] = (await listTrades(t.sql, { symbol: 'PART', limit: 1 })).items;
    expect(trade).toMatchObject({
      side: 'sell',
      qty: '4',
      price: '51',
      realizedPnl: '3',
      positionAfter: '6',
    });
    expect(await getPosition(t.sql, 'manual', 'PART')).toMatchObject({
      qty: '6',
      avgPrice: '50.25',
      realizedPnl: '3',
    });
  });

  it('books a fill that no trade covers yet (another path inserted it) exactly once', async () => {
    const placed = await placeManualOrder(
      ctx(),
      ManualOrderInput.parse({ symbol: 'PART', side: 'sell', qty: '1', timeInForce: 'gtc' }),
    );
    const fill = await insertFill(t.sql, {
      orderId: placed.order!.id,
      exchangeFillId: 'activity-1',
      symbol: 'PART',
      side: 'sell',
      qty: '1',
      price: '52',
      fee: '0',
      filledAt: new Date(T0 + 5 * MIN).toISOString(),
    });
    expect(fill).not.toBeNull();
    const [a, b] = await Promise.all([bookUnbookedFills(ctx()), bookUnbookedFills(ctx())]);
    expect(a.length + b.length).toBe(1);
    expect(await count(t.sql, 'trades', `fill_id = ${fill!.id}`)).toBe(1);
    expect((await getPosition(t.sql, 'manual', 'PART'))?.qty).toBe('5');
    expect(await bookUnbookedFills(ctx())).toEqual([]);
    await (await getExchange('sim')).cancelOrder((await getOrder(t.sql, placed.order!.id))!.exchangeOrderId!);
  });
});
