/**
 * An order is never placed twice: the same signal delivered concurrently, redelivered, and resumed after
 * a restart at each point a crash can leave it — counted at the exchange (the sim's own orders table).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import placeOrderHandler from '../../../functions/place-order/handler.ts';
import { makeEnvelope } from '../../src/bus/index.ts';
import { claimOrder, connect, getOrder, getSignal, listSignals } from '../../src/db/index.ts';
import { getExchange } from '../../src/exchanges/configured.ts';
import {
  clientOrderIdFor,
  generateSignals,
  type PlaceResult,
  placeSignalOrders,
  reconcile,
} from '../../src/pipeline/index.ts';
import { invokeHandler } from '../../src/runtime/index.ts';
import { createTestNatsBus, natsUrl, useTestDatabase } from '../../src/testing/index.ts';
import {
  barsFrom,
  CROSS_UP,
  clearClock,
  count,
  countingSim,
  MIN,
  makeStrategy,
  pipelineContext,
  setClock,
  sleep,
  storeBars,
  useBus,
} from './helpers.ts';

const T0 = Date.UTC(2024, 6, 1, 15, 0);

describe.skipIf(!natsUrl())('placing an order exactly once', () => {
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

  /** A fresh strategy on its own symbol with a BUY signal on its newest bar; returns the signal id. */
  async function freshSignal(symbol: string, name: string): Promise<number> {
    await storeBars(t.sql, barsFrom(symbol, T0, CROSS_UP));
    await makeStrategy(t.sql, { name, symbols: [symbol] });
    setClock(T0 + CROSS_UP.length * MIN + 1000);
    const ctx = pipelineContext(t.sql, nats.bus);
    const { signalIds } = await generateSignals(ctx, { strategies: [name] });
    expect(signalIds).toHaveLength(1);
    return signalIds[0];
  }

  const simOrdersFor = (clientOrderId: string): Promise<number> =>
    count(t.sql, 'sim_orders', `client_order_id = '${clientOrderId}'`);

  it('delivered three times concurrently (the nats-connector path), one order reaches the exchange', async () => {
    const signalId = await freshSignal('ONCE', 'once');
    const sim = await countingSim();
    const envelope = makeEnvelope(
      'signals.created',
      { signalIds: [signalId] },
      { correlationId: 'dup', id: 'dup-1' },
    );
    const answers = await Promise.all(
      [1, 2, 3].map(() => invokeHandler(placeOrderHandler, { body: JSON.parse(JSON.stringify(envelope)) })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const outcomes = answers.flatMap((a) =>
      (a.body as { results: PlaceResult[] }).results.map((r) => r.outcome),
    );
    expect(outcomes.filter((o) => o === 'ordered')).toHaveLength(1);
    expect(outcomes.every((o) => ['ordered', 'exists', 'in_progress'].includes(o))).toBe(true);
    const signal = await getSignal(t.sql, signalId);
    const clientOrderId = clientOrderIdFor('once', 'ONCE', signal!.barTime, 'buy');
    expect(clientOrderId).toMatch(/^wv-[0-9a-f]{29}$/);
    expect(sim.submits()).toBe(1);
    expect(await simOrdersFor(clientOrderId)).toBe(1);
    expect(await count(t.sql, 'orders', `client_order_id = '${clientOrderId}'`)).toBe(1);
    expect(signal?.status).toBe('ordered');
    // and once more after it settled: nothing new
    const again = await invokeHandler(placeOrderHandler, { body: { signalIds: [signalId] } });
    expect((again.body as { results: PlaceResult[] }).results[0].outcome).toBe('exists');
    expect(sim.submits()).toBe(1);
    expect(await simOrdersFor(clientOrderId)).toBe(1);
  });

  it('after a restart with the claim made but never submitted: submits once, concurrently or not', async () => {
    const signalId = await freshSignal('CRASHA', 'crash-before-submit');
    const signal = (await getSignal(t.sql, signalId))!;
    const clientOrderId = clientOrderIdFor(signal.strategy, signal.symbol, signal.barTime, 'buy');
    // The crashed process got as far as the claim (pending_submit) and died before the exchange call.
    const { order } = await claimOrder(t.sql, {
      clientOrderId,
      exchange: 'sim',
      strategy: signal.strategy,
      signalId,
      symbol: signal.symbol,
      side: 'buy',
      type: 'market',
      timeInForce: 'gtc',
      qty: '10',
    });
    // New process state: fresh adapters; the redelivery arrives three times at once.
    const sim = await countingSim();
    const ctx = pipelineContext(t.sql, nats.bus);
    const results = (await Promise.all([1, 2, 3].map(() => placeSignalOrders(ctx, [signalId])))).flat();
    expect(results.filter((r) => r.outcome === 'ordered')).toHaveLength(1);
    expect(sim.submits()).toBe(1);
    expect(await simOrdersFor(clientOrderId)).toBe(1);
    expect((await getOrder(t.sql, order.id))?.status).toBe('new');
  });

  it('after a restart with the order at the exchange but not recorded: finds it, submits nothing', async () => {
    const signalId = await freshSignal('CRASHB', 'crash-after-submit');
    const signal = (await getSignal(t.sql, signalId))!;
    const clientOrderId = clientOrderIdFor(signal.strategy, signal.symbol, signal.barTime, 'buy');
    const intent = {
      clientOrderId,
      exchange: 'sim',
      strategy: signal.strategy,
      signalId,
      symbol: signal.symbol,
      side: 'buy' as const,
      type: 'market' as const,
      timeInForce: 'gtc' as const,
      qty: '10',
    };
    const { order } = await claimOrder(t.sql, intent);
    // The crashed process reached the exchange, then died before storing the answer.
    const atExchange = await (await getExchange('sim')).submitOrder({ ...intent, notional: undefined });
    const sim = await countingSim();
    const ctx = pipelineContext(t.sql, nats.bus);
    const [first, second] = await Promise.all([
      placeSignalOrders(ctx, [signalId]),
      placeSignalOrders(ctx, [signalId]),
    ]);
    expect([...first, ...second].some((r) => r.outcome === 'ordered')).toBe(true);
    expect(sim.submits()).toBe(0);
    expect(await simOrdersFor(clientOrderId)).toBe(1);
    const stored = await getOrder(t.sql, order.id);
    expect(stored).toMatchObject({ status: 'new', exchangeOrderId: atExchange.id });
  });

  it('a claim left by a crash is resumed by the reconcile sweep, once', async () => {
    const signalId = await freshSignal('CRASHC', 'crash-swept');
    const signal = (await getSignal(t.sql, signalId))!;
    const clientOrderId = clientOrderIdFor(signal.strategy, signal.symbol, signal.barTime, 'buy');
    await claimOrder(t.sql, {
      clientOrderId,
      exchange: 'sim',
      strategy: signal.strategy,
      signalId,
      symbol: signal.symbol,
      side: 'buy',
      type: 'market',
      timeInForce: 'gtc',
      qty: '10',
    });
    const sim = await countingSim();
    const ctx = pipelineContext(t.sql, nats.bus);
    const [a, b] = await Promise.all([
      reconcile(ctx, { limit: 100, snapshot: false }),
      reconcile(ctx, { limit: 100, snapshot: false }),
    ]);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(sim.submits()).toBe(1);
    expect(await simOrdersFor(clientOrderId)).toBe(1);
    expect((await listSignals(t.sql, { strategy: 'crash-swept' })).items[0].status).toBe('ordered');
  });

  it('places many signals at once through a two-connection pool without starving it (each once)', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(await freshSignal(`POOL${i}`, `pool-${i}`));
    const small = connect(t.url, { max: 2 });
    try {
      const ctx = pipelineContext(small, nats.bus);
      const sim = await countingSim();
      const runs = await Promise.race([
        Promise.all([...ids, ...ids].map((id) => placeSignalOrders(ctx, [id]))),
        sleep(20_000).then(() => {
          throw new Error('placements did not finish: pool starved');
        }),
      ]);
      expect(runs.flat().filter((r) => r.outcome === 'ordered')).toHaveLength(8);
      expect(sim.submits()).toBe(8);
    } finally {
      await small.end();
    }
  });
});
