/**
 * The whole live pipeline through real NATS and Postgres, wired the way the local runner and
 * nats-connector wire it: each subject delivers its envelope to the function whose topic names it, and
 * fetch-bars is fired like the cron, once per simulated minute, on the demo market.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fetchBarsHandler from '../../../functions/fetch-bars/handler.ts';
import generateSignalsHandler from '../../../functions/generate-signals/handler.ts';
import placeOrderHandler from '../../../functions/place-order/handler.ts';
import recordTradeHandler from '../../../functions/record-trade/handler.ts';
import { getPosition, listOrders, listTrades } from '../../src/db/index.ts';
import { DEMO_STRATEGY, DemoMarket, ensureDemo } from '../../src/demo/index.ts';
import { simCash } from '../../src/exchanges/sim/index.ts';
import { mul, sub } from '../../src/money/index.ts';
import { type FaasHandler, invokeHandler } from '../../src/runtime/index.ts';
import type { EventEnvelope } from '../../src/schemas/index.ts';
import { smaCrossover } from '../../src/strategies/index.ts';
import { createTestNatsBus, natsUrl, useTestDatabase } from '../../src/testing/index.ts';
import { clearClock, count, MIN, setClock, sleep, useBus } from './helpers.ts';

/** A start (aligned minute) whose first BUY on ACME is followed by a quiet bar, so one trade results. */
function findStart(): { start: number; buyAt: number } {
  const market = new DemoMarket();
  for (let start = Date.UTC(2024, 5, 3, 9, 0); ; start += 7 * MIN) {
    const bars = market.bars('ACME', '1Min', start - 40 * MIN, start + 40 * MIN);
    const inst = smaCrossover.create({ fast: 3, slow: 8 });
    const decisions = bars.map((b) => inst.next({ ...b, time: Date.parse(b.time) }));
    const first = bars.findIndex((b, i) => Date.parse(b.time) >= start && decisions[i] !== 0);
    if (first > 0 && decisions[first] === 1 && decisions[first + 1] === 0) {
      return { start, buyAt: Date.parse(bars[first].time) };
    }
  }
}

describe.skipIf(!natsUrl())('live pipeline over real NATS', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  const received: EventEnvelope[] = [];
  let inflight = 0;
  let lastActivity = Date.now();

  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    const route = (subject: string, handler: FaasHandler): void => {
      nats.bus.subscribe(subject, async (envelope) => {
        inflight++;
        lastActivity = Date.now();
        try {
          await invokeHandler(handler, { body: envelope, headers: { 'content-type': 'application/json' } });
        } finally {
          inflight--;
          lastActivity = Date.now();
        }
      });
    };
    route('bars.fetched', generateSignalsHandler);
    route('signals.created', placeOrderHandler);
    route('orders.updated', recordTradeHandler);
    nats.bus.subscribe('>', (e) => {
      received.push(e);
      lastActivity = Date.now();
    });
  });
  afterAll(async () => {
    clearClock();
    await nats?.drop();
  });

  /** Waits until every delivered message has been handled and the bus has been quiet for a while. */
  async function settle(): Promise<void> {
    for (;;) {
      await sleep(50);
      if (inflight === 0 && Date.now() - lastActivity > 250) return;
    }
  }

  it('turns demo bars into exactly one order and one trade, with position and cash exact', async () => {
    const { start, buyAt } = findStart();
    await ensureDemo(t.sql, { now: start, symbols: ['ACME'], backfillBars: 60 });
    const market = new DemoMarket();
    const fillBar = market.barAt('ACME', '1Min', buyAt + MIN);

    // The cron: one fetch-bars per simulated minute, until the bar after the BUY is in.
    const minutes = (buyAt - start) / MIN + 2;
    for (let i = 1; i <= minutes; i++) {
      setClock(start + i * MIN + 1000);
      const res = await invokeHandler(fetchBarsHandler, {
        body: '',
        headers: { 'x-correlation-id': `cron-${i}` },
      });
      expect(res.status).toBe(200);
      await settle();
    }

    const orders = (await listOrders(t.sql)).items;
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      strategy: DEMO_STRATEGY,
      symbol: 'ACME',
      side: 'buy',
      status: 'filled',
      qty: '10',
    });
    expect(await count(t.sql, 'sim_orders')).toBe(1);
    const trades = (await listTrades(t.sql)).items;
    expect(trades).toHaveLength(1);
    const price = String(fillBar.open);
    expect(trades[0]).toMatchObject({ qty: '10', price, positionAfter: '10', realizedPnl: '0' });
    expect(await getPosition(t.sql, DEMO_STRATEGY, 'ACME')).toMatchObject({ qty: '10', avgPrice: price });
    expect(await simCash(t.sql)).toBe(sub('100000', mul('10', price)));

    // Every hop travelled over NATS, and the chain that placed the order carries the cron run's id.
    const types = new Set(received.map((e) => e.type));
    for (const type of ['bars.fetched', 'signals.created', 'orders.updated', 'trades.recorded'])
      expect(types).toContain(type);
    const signalRun = received.find((e) => e.type === 'signals.created')!;
    const buyMinute = (buyAt - start) / MIN + 1;
    expect(signalRun.correlationId).toBe(`cron-${buyMinute}`);
    const submitted = received.find(
      (e) => e.type === 'orders.updated' && e.correlationId === `cron-${buyMinute}`,
    );
    expect(submitted).toBeDefined();
    const recorded = received.filter((e) => e.type === 'trades.recorded');
    expect(recorded).toHaveLength(1);
    expect(recorded[0].correlationId).toBe(`cron-${buyMinute + 1}`);
  });
});
