import { makeEnvelope } from '@weaver/shared/bus';
import { getOrder, getPosition, listTrades } from '@weaver/shared/db';
import { simCash } from '@weaver/shared/exchanges/sim';
import { ManualOrderInput, placeManualOrder } from '@weaver/shared/pipeline';
import { invokeHandler } from '@weaver/shared/runtime';
import type { EventEnvelope } from '@weaver/shared/schemas';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bar,
  clearClock,
  count,
  eventually,
  expectRejected,
  HUGE_BODY,
  MIN,
  pipelineContext,
  setClock,
  storeBars,
  useBus,
} from '../../shared/test/pipeline/helpers.ts';
import handler from './handler.ts';

const T0 = Date.UTC(2025, 2, 3, 18, 0);

describe.skipIf(!natsUrl())('record-trade function', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  const events: EventEnvelope[] = [];
  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    nats.bus.subscribe('trades.recorded', (e) => {
      events.push(e);
    });
  });
  afterAll(async () => {
    clearClock();
    await nats?.drop();
  });

  it('on orders.updated: books the fill as a trade and position, cash exact, publishes trades.recorded', async () => {
    await storeBars(t.sql, [bar('REC', T0, 33.33)]);
    setClock(T0 + MIN + 500);
    const ctx = pipelineContext(t.sql, nats.bus);
    const { order } = await placeManualOrder(
      ctx,
      ManualOrderInput.parse({ symbol: 'REC', side: 'buy', qty: '7', timeInForce: 'gtc' }),
    );
    await storeBars(t.sql, [bar('REC', T0 + MIN, 33.37, { open: 33.41 })]);
    setClock(T0 + 2 * MIN + 500);
    const envelope = makeEnvelope(
      'orders.updated',
      {
        orders: [
          {
            id: order!.id,
            clientOrderId: order!.clientOrderId,
            strategy: 'manual',
            symbol: 'REC',
            side: 'buy',
            status: 'filled',
            filledQty: '7',
          },
        ],
      },
      { correlationId: 'fill-1', id: 'ou-1' },
    );
    const res = await invokeHandler(handler, { body: JSON.parse(JSON.stringify(envelope)) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orders: [{ id: order!.id, status: 'filled' }] });
    const [trade] = (await listTrades(t.sql)).items;
    expect(trade).toMatchObject({
      orderId: order!.id,
      side: 'buy',
      qty: '7',
      price: '33.41',
      positionAfter: '7',
      realizedPnl: '0',
    });
    expect(await getPosition(t.sql, 'manual', 'REC')).toMatchObject({ qty: '7', avgPrice: '33.41' });
    expect(await simCash(t.sql)).toBe('99766.13'); // 100000 − 7 × 33.41
    expect(await getOrder(t.sql, order!.id)).toMatchObject({
      status: 'filled',
      filledQty: '7',
      filledAvgPrice: '33.41',
    });
    const event = await eventually(async () => events.find((e) => e.correlationId === 'fill-1'));
    expect(event.payload).toMatchObject({ trades: [{ id: trade.id, qty: '7', price: '33.41' }] });

    // Redelivered, and asked again over HTTP: nothing booked twice.
    await invokeHandler(handler, { body: JSON.parse(JSON.stringify(envelope)) });
    const again = await invokeHandler(handler, { body: { orderIds: [order!.id] } });
    expect(again.body).toMatchObject({ tradeIds: [] });
    expect(await count(t.sql, 'trades')).toBe(1);
    expect(await count(t.sql, 'fills')).toBe(1);
  });

  it('answers 4xx naming the field for bad input, and writes nothing', async () => {
    await expectRejected(t.sql, handler, {}, 400, 'orderIds');
    await expectRejected(t.sql, handler, { orderIds: 'all' }, 400, 'orderIds');
    await expectRejected(t.sql, handler, { orderIds: [0] }, 400, 'orderIds.0');
    await expectRejected(t.sql, handler, { orderIds: [-3] }, 400, 'orderIds.0');
    await expectRejected(t.sql, handler, { orderIds: [424242] }, 404, 'orderIds.0');
    const badEvent = {
      id: 'e2',
      type: 'orders.updated',
      occurredAt: new Date().toISOString(),
      correlationId: 'c',
      payload: {
        orders: [
          {
            id: 1,
            clientOrderId: 'x',
            strategy: 'manual',
            symbol: 'REC',
            side: 'buy',
            status: 'done',
            filledQty: '1',
          },
        ],
      },
    };
    await expectRejected(t.sql, handler, badEvent, 400, 'payload.orders.0.status');
    await expectRejected(t.sql, handler, HUGE_BODY, 413, 'body');
  });
});
