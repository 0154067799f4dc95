import { getPosition, getSignal, insertFill, listOrders, listTrades } from '@weaver/shared/db';
import { generateSignals, ManualOrderInput, placeManualOrder } from '@weaver/shared/pipeline';
import { invokeHandler } from '@weaver/shared/runtime';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bar,
  barsFrom,
  CROSS_UP,
  clearClock,
  count,
  expectRejected,
  HUGE_BODY,
  MIN,
  makeStrategy,
  pipelineContext,
  setClock,
  storeBars,
  useBus,
} from '../../shared/test/pipeline/helpers.ts';
import handler from './handler.ts';

const T0 = Date.UTC(2025, 3, 7, 12, 0);

describe.skipIf(!natsUrl())('reconcile function', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
  });
  afterAll(async () => {
    clearClock();
    await nats?.drop();
  });

  it('sweeps up what lost messages left: unordered signals, unrecorded fills, unbooked fills; snapshots the account', async () => {
    const ctx = pipelineContext(t.sql, nats.bus);
    // 1. a signal whose signals.created was lost
    await storeBars(t.sql, barsFrom('SWEEP', T0, CROSS_UP));
    await makeStrategy(t.sql, { name: 'sweep', symbols: ['SWEEP'] });
    setClock(T0 + CROSS_UP.length * MIN + 500);
    const { signalIds } = await generateSignals(ctx, { strategies: ['sweep'] });
    // 2. a manual order that filled at the exchange, whose orders.updated was lost
    await storeBars(t.sql, [bar('LOST', T0 + 8 * MIN, 10)]);
    const manual = await placeManualOrder(
      ctx,
      ManualOrderInput.parse({ symbol: 'LOST', side: 'buy', qty: '2', timeInForce: 'gtc' }),
    );
    await storeBars(t.sql, [bar('LOST', T0 + 9 * MIN, 10.5, { open: 10.25 })]);
    // 3. a fill some other path recorded without booking it
    await insertFill(t.sql, {
      orderId: manual.order!.id,
      exchangeFillId: 'external-1',
      symbol: 'LOST',
      side: 'buy',
      qty: '1',
      price: '10',
      fee: '0',
      filledAt: new Date(T0 + 9 * MIN).toISOString(),
    });
    setClock(T0 + 10 * MIN + 500);

    const res = await invokeHandler(handler, { body: '' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      signalsPlaced: 1,
      ordersChanged: 1,
      tradesRecorded: 1,
      fillsBooked: 1,
      snapshots: 1,
      errors: [],
    });
    expect((await getSignal(t.sql, signalIds[0]))?.status).toBe('ordered');
    // the venue filled 2 at 10.25; one unit was already in fills (the external one), so one more is booked
    const lost = (await listOrders(t.sql, { symbol: 'LOST' })).items[0];
    expect(lost).toMatchObject({ status: 'filled', filledQty: '2' });
    expect(await count(t.sql, 'trades', `symbol = 'LOST'`)).toBe(2);
    expect((await getPosition(t.sql, 'manual', 'LOST'))?.qty).toBe('2');
    expect(await count(t.sql, 'account_snapshots')).toBe(1);

    // A second sweep finds nothing left but the snapshot.
    const again = await invokeHandler(handler, { body: { snapshot: false } });
    expect(again.body).toMatchObject({
      pendingResumed: 0,
      signalsPlaced: 0,
      ordersChanged: 0,
      tradesRecorded: 0,
      fillsBooked: 0,
      snapshots: 0,
    });
    expect((await listTrades(t.sql)).items).toHaveLength(2);
  });

  it('answers 4xx naming the field for bad input, and writes nothing', async () => {
    await expectRejected(t.sql, handler, { limit: 0 }, 400, 'limit');
    await expectRejected(t.sql, handler, { limit: 'all' }, 400, 'limit');
    await expectRejected(t.sql, handler, { snapshot: 'yes' }, 400, 'snapshot');
    await expectRejected(t.sql, handler, [1, 2], 400, '(body)');
    await expectRejected(t.sql, handler, HUGE_BODY, 413, 'body');
  });
});
