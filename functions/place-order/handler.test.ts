import { getOrder, getOrderByClientId } from '@weaver/shared/db';
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
  setClock,
  storeBars,
  useBus,
} from '../../shared/test/pipeline/helpers.ts';
import handler from './handler.ts';

const T0 = Date.UTC(2025, 1, 10, 14, 0);

describe.skipIf(!natsUrl())('place-order function', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  const events: EventEnvelope[] = [];
  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    nats.bus.subscribe('orders.updated', (e) => {
      events.push(e);
    });
    await storeBars(t.sql, [bar('MANU', T0, 20)]);
    setClock(T0 + MIN + 500);
  });
  afterAll(async () => {
    clearClock();
    await nats?.drop();
  });

  it('places a manual order once per clientOrderId, at the exchange, and publishes orders.updated', async () => {
    const body = {
      order: {
        symbol: 'manu',
        side: 'buy',
        qty: 3,
        type: 'limit',
        limitPrice: '19.5',
        timeInForce: 'gtc',
        clientOrderId: 'ui-click-1',
      },
    };
    const first = await invokeHandler(handler, { body, headers: { 'x-correlation-id': 'ui-1' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      outcome: 'ordered',
      order: {
        clientOrderId: 'ui-click-1',
        symbol: 'MANU',
        qty: '3',
        limitPrice: '19.5',
        status: 'new',
        strategy: 'manual',
      },
    });
    const second = await invokeHandler(handler, { body });
    expect(second.body).toMatchObject({ outcome: 'exists' });
    expect(await count(t.sql, 'sim_orders', `client_order_id = 'ui-click-1'`)).toBe(1);
    const stored = await getOrderByClientId(t.sql, 'ui-click-1');
    expect(stored?.exchangeOrderId).toMatch(/^sim-\d+$/);
    const event = await eventually(async () => events.find((e) => e.correlationId === 'ui-1'));
    expect(event.payload).toMatchObject({ orders: [{ id: stored!.id, status: 'new', filledQty: '0' }] });
  });

  it('records an exchange refusal on the order row (typed error, not a crash)', async () => {
    const res = await invokeHandler(handler, {
      body: { order: { symbol: 'MANU', side: 'sell', qty: '5', clientOrderId: 'naked-sell' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'failed',
      order: { status: 'failed', errorCode: 'insufficient_funds' },
    });
    const row = await getOrderByClientId(t.sql, 'naked-sell');
    expect(row?.errorMessage).toMatch(/insufficient qty available/);
    expect((await getOrder(t.sql, row!.id))?.status).toBe('failed');
  });

  it('answers 4xx naming the field for bad input, and writes nothing', async () => {
    const order = { symbol: 'MANU', side: 'buy', qty: '1' };
    await expectRejected(t.sql, handler, {}, 400, 'signalIds');
    await expectRejected(t.sql, handler, { signalIds: [] }, 400, 'signalIds');
    await expectRejected(t.sql, handler, { signalIds: ['one'] }, 400, 'signalIds.0');
    await expectRejected(t.sql, handler, { signalIds: [987654] }, 404, 'signalIds.0');
    await expectRejected(t.sql, handler, { signalIds: [1], order }, 400, 'signalIds');
    await expectRejected(t.sql, handler, { order: { ...order, symbol: 'NOPE' } }, 400, 'order.symbol');
    await expectRejected(t.sql, handler, { order: { ...order, qty: '-5' } }, 400, 'order.qty');
    await expectRejected(t.sql, handler, { order: { ...order, qty: 0 } }, 400, 'order.qty');
    await expectRejected(t.sql, handler, { order: { symbol: 'MANU', side: 'buy' } }, 400, 'order.qty');
    await expectRejected(t.sql, handler, { order: { ...order, side: 'hold' } }, 400, 'order.side');
    await expectRejected(t.sql, handler, { order: { ...order, type: 'limit' } }, 400, 'order.limitPrice');
    await expectRejected(
      t.sql,
      handler,
      { order: { ...order, clientOrderId: 'has spaces' } },
      400,
      'order.clientOrderId',
    );
    await expectRejected(
      t.sql,
      handler,
      { order: { ...order, strategy: 'no-such-book' } },
      404,
      'order.strategy',
    );
    await expectRejected(t.sql, handler, HUGE_BODY, 413, 'body');
  });
});
