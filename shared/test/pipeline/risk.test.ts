/** Every risk limit refuses what it should (and nothing is written), halts are recorded and published. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { activeHalts, deleteSetting, getPosition, getSignal, putSetting } from '../../src/db/index.ts';
import type { PipelineContext } from '../../src/pipeline/index.ts';
import {
  generateSignals,
  haltTrading,
  type ManualOrderInput,
  ManualOrderInput as ManualOrderSchema,
  placeManualOrder,
  placeSignalOrders,
  resumeTrading,
  syncOpenOrders,
} from '../../src/pipeline/index.ts';
import { dayPnl } from '../../src/risk/index.ts';
import { HttpError } from '../../src/runtime/index.ts';
import type { EventEnvelope } from '../../src/schemas/index.ts';
import { createTestNatsBus, natsUrl, useTestDatabase } from '../../src/testing/index.ts';
import {
  bar,
  barsFrom,
  CROSS_UP,
  clearClock,
  count,
  domainCounts,
  eventually,
  MIN,
  makeStrategy,
  pipelineContext,
  setClock,
  storeBars,
  useBus,
} from './helpers.ts';

const T0 = Date.UTC(2024, 8, 2, 13, 0);

describe.skipIf(!natsUrl())('risk limits', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  let ctx: PipelineContext;
  const events: EventEnvelope[] = [];
  /** Bars are added one minute at a time for every symbol in play; the clock follows. */
  let minute = 0;
  const symbols = new Map<string, number>();

  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    nats.bus.subscribe('>', (e) => {
      events.push(e);
    });
    ctx = pipelineContext(t.sql, nats.bus, 'risk');
  });
  afterEach(async () => {
    await deleteSetting(t.sql, 'risk_limits');
    await resumeTrading(ctx);
    await t.sql`UPDATE trading_halts SET cleared_at = now() WHERE cleared_at IS NULL`;
  });
  afterAll(async () => {
    clearClock();
    await nats?.drop();
  });

  /** Stores one more bar for every symbol (at its price), moves the clock past it, books fills. */
  async function nextMinute(prices: Record<string, number> = {}): Promise<void> {
    for (const [s, p] of Object.entries(prices)) symbols.set(s, p);
    await storeBars(
      t.sql,
      [...symbols].map(([s, p]) => bar(s, T0 + minute * MIN, p, { open: p })),
    );
    minute++;
    setClock(T0 + minute * MIN + 1000);
    await syncOpenOrders(ctx, { apply: true });
  }

  const order = (o: Partial<ManualOrderInput> & { symbol: string }) =>
    ManualOrderSchema.parse({ side: 'buy', qty: '1', timeInForce: 'gtc', ...o });

  async function refused(o: ReturnType<typeof order>, code: string): Promise<HttpError> {
    const before = await domainCounts(t.sql);
    const err = await placeManualOrder(ctx, o).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(422);
    expect((err as HttpError).code).toBe(code);
    const after = await domainCounts(t.sql);
    // nothing written but (possibly) the halt a breach records and its audit event
    expect({ ...after, trading_halts: 0, events: 0 }).toEqual({ ...before, trading_halts: 0, events: 0 });
    return err as HttpError;
  }

  it('refuses an order above max order notional; accepts one below', async () => {
    await nextMinute({ NOTL: 100 });
    await putSetting(t.sql, 'risk_limits', { maxOrderNotional: '500' });
    const err = await refused(order({ symbol: 'NOTL', qty: '6' }), 'max_order_notional');
    expect(err.message).toMatch(/600 exceeds max 500/);
    expect((await placeManualOrder(ctx, order({ symbol: 'NOTL', qty: '5' }))).outcome).toBe('ordered');
  });

  it('refuses an order that would take the position above max position notional (open orders count)', async () => {
    await nextMinute({ POSN: 100 });
    await putSetting(t.sql, 'risk_limits', { maxPositionNotional: '800' });
    expect((await placeManualOrder(ctx, order({ symbol: 'POSN', qty: '4' }))).outcome).toBe('ordered');
    await refused(order({ symbol: 'POSN', qty: '5' }), 'max_position_notional'); // 4 pending + 5 = 900
    await nextMinute(); // the 4 fill
    expect((await getPosition(t.sql, 'manual', 'POSN'))?.qty).toBe('4');
    await refused(order({ symbol: 'POSN', qty: '5' }), 'max_position_notional');
    expect((await placeManualOrder(ctx, order({ symbol: 'POSN', qty: '4' }))).outcome).toBe('ordered');
  });

  it('refuses a new order while max open orders are open', async () => {
    await nextMinute({ OPEN: 100 });
    const open = await count(
      t.sql,
      'orders',
      `status NOT IN ('filled','canceled','expired','replaced','rejected','failed')`,
    );
    await putSetting(t.sql, 'risk_limits', { maxOpenOrders: open + 2 });
    const resting = { symbol: 'OPEN', type: 'limit' as const, limitPrice: '50' };
    expect((await placeManualOrder(ctx, order(resting))).outcome).toBe('ordered');
    expect((await placeManualOrder(ctx, order(resting))).outcome).toBe('ordered');
    const err = await refused(order(resting), 'max_open_orders');
    expect(err.message).toMatch(new RegExp(`${open + 2} orders are open, max ${open + 2}`));
  });

  it('refuses opening orders while halted, lets a closing order through, and resumes', async () => {
    await nextMinute({ HALT: 100 });
    expect((await placeManualOrder(ctx, order({ symbol: 'HALT', qty: '3' }))).outcome).toBe('ordered');
    await nextMinute();
    await haltTrading(ctx, { reason: 'operator pressed stop' });
    const err = await refused(order({ symbol: 'HALT', qty: '1' }), 'trading_halted');
    expect(err.message).toMatch(/operator pressed stop/);
    // reducing the position is allowed: exits must work during a halt
    expect((await placeManualOrder(ctx, order({ symbol: 'HALT', side: 'sell', qty: '2' }))).outcome).toBe(
      'ordered',
    );
    await eventually(async () =>
      events.some(
        (e) =>
          e.type === 'risk.halted' && (e.payload as { reason: string }).reason === 'operator pressed stop',
      ),
    );
    await resumeTrading(ctx);
    await eventually(async () => events.some((e) => e.type === 'risk.resumed'));
    expect((await placeManualOrder(ctx, order({ symbol: 'HALT', qty: '1' }))).outcome).toBe('ordered');
  });

  it('fails closed on a malformed risk_limits setting, naming the field', async () => {
    await nextMinute({ BADL: 100 });
    await putSetting(t.sql, 'risk_limits', { maxOrderNotional: '-5' });
    const err = await refused(order({ symbol: 'BADL' }), 'risk_limits_invalid');
    expect(err.message).toMatch(/risk_limits\.maxOrderNotional: must be greater than 0/);
  });

  it('marks a signal refused by a limit as rejected with the reason', async () => {
    await storeBars(t.sql, barsFrom('SIGR', T0 + minute * MIN - CROSS_UP.length * MIN, CROSS_UP));
    await makeStrategy(t.sql, { name: 'sig-risk', symbols: ['SIGR'] });
    await putSetting(t.sql, 'risk_limits', { maxOrderNotional: '100' });
    const { signalIds } = await generateSignals(ctx, { strategies: ['sig-risk'] });
    expect(signalIds).toHaveLength(1);
    const [r] = await placeSignalOrders(ctx, signalIds);
    expect(r).toMatchObject({ outcome: 'rejected', riskCode: 'max_order_notional' });
    expect(await getSignal(t.sql, signalIds[0])).toMatchObject({
      status: 'rejected',
      statusReason: expect.stringMatching(/1040 exceeds max 100/),
    });
    expect(await count(t.sql, 'orders', `signal_id = ${signalIds[0]}`)).toBe(0);
    await t.sql`UPDATE strategies SET enabled = false WHERE name = 'sig-risk'`;
  });

  it('kill switch: halts, cancels open orders and flattens positions', async () => {
    await nextMinute({ KILL: 100 });
    await placeManualOrder(ctx, order({ symbol: 'KILL', qty: '3' }));
    await nextMinute();
    const resting = [
      await placeManualOrder(ctx, order({ symbol: 'KILL', type: 'limit', limitPrice: '80' })),
      await placeManualOrder(ctx, order({ symbol: 'KILL', type: 'limit', limitPrice: '81' })),
    ].map((r) => r.order!.id);
    const result = await haltTrading(ctx, { reason: 'kill switch', flatten: true });
    expect(result.errors).toEqual([]);
    expect(result.canceled).toEqual(expect.arrayContaining(resting));
    expect(await count(t.sql, 'orders', `id IN (${resting.join(',')}) AND status = 'canceled'`)).toBe(2);
    expect(
      await count(
        t.sql,
        'sim_orders',
        `client_order_id IN (SELECT client_order_id FROM orders WHERE id IN (${resting.join(',')})) AND status = 'canceled'`,
      ),
    ).toBe(2);
    const closing = result.closing.find((c) => c.order?.symbol === 'KILL');
    expect(closing?.order).toMatchObject({ side: 'sell', qty: '3', strategy: 'manual' });
    await nextMinute();
    expect((await getPosition(t.sql, 'manual', 'KILL'))?.qty).toBe('0');
    expect(await activeHalts(t.sql, new Date(T0 + minute * MIN).toISOString())).toHaveLength(1);
  });

  it('cools a strategy down after a losing trade', async () => {
    await nextMinute({ COOL: 100 });
    await makeStrategy(t.sql, { name: 'cool', symbols: ['COOL'], enabled: false });
    await placeManualOrder(ctx, order({ strategy: 'cool', symbol: 'COOL', qty: '2' }));
    await nextMinute({ COOL: 100 }); // bought at the next open, 100
    await placeManualOrder(ctx, order({ strategy: 'cool', symbol: 'COOL', side: 'sell', qty: '2' }));
    await nextMinute({ COOL: 95 }); // sold at 95: a loss of 10
    expect((await getPosition(t.sql, 'cool', 'COOL'))?.realizedPnl).toBe('-10');
    await putSetting(t.sql, 'risk_limits', { cooldownMinutesAfterLoss: 30 });
    const err = await refused(order({ strategy: 'cool', symbol: 'COOL' }), 'cooldown');
    expect(err.message).toMatch(/cool-down after a losing trade until/);
    // other books are not cooled down
    expect((await placeManualOrder(ctx, order({ symbol: 'COOL' }))).outcome).toBe('ordered');
    setClock(T0 + (minute + 31) * MIN);
    expect((await placeManualOrder(ctx, order({ strategy: 'cool', symbol: 'COOL' }))).outcome).toBe(
      'ordered',
    );
    setClock(T0 + minute * MIN + 1000);
  });
});

describe.skipIf(!natsUrl())('daily loss limit', () => {
  // (also proves dayPnl marks to market since UTC midnight)
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  let ctx: PipelineContext;
  const events: EventEnvelope[] = [];
  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    nats.bus.subscribe('risk.*', (e) => {
      events.push(e);
    });
    ctx = pipelineContext(t.sql, nats.bus, 'daily-loss');
  });
  afterAll(async () => {
    clearClock();
    await nats?.drop();
  });

  it('halts new orders for the rest of the UTC day, records the halt once and publishes it', async () => {
    const at = (m: number, price: number) =>
      storeBars(t.sql, [bar('LOSS', T0 + m * MIN, price, { open: price })]);
    await at(0, 100);
    setClock(T0 + MIN + 1000);
    await putSetting(t.sql, 'risk_limits', { dailyLossLimit: '50' });
    await placeManualOrder(
      ctx,
      ManualOrderSchema.parse({ symbol: 'LOSS', side: 'buy', qty: '10', timeInForce: 'gtc' }),
    );
    await at(1, 100);
    setClock(T0 + 2 * MIN + 1000);
    await syncOpenOrders(ctx, { apply: true });
    expect((await getPosition(t.sql, 'manual', 'LOSS'))?.qty).toBe('10');
    await at(2, 94); // unrealised −60 ≤ −50
    setClock(T0 + 3 * MIN + 1000);

    const err = await placeManualOrder(
      ctx,
      ManualOrderSchema.parse({ symbol: 'LOSS', side: 'buy', qty: '1' }),
    ).catch((e) => e);
    expect(err).toMatchObject({ status: 422, code: 'daily_loss_limit' });
    expect(err.message).toMatch(/day P&L -60 reached -50/);
    const halts = await activeHalts(t.sql, new Date(T0 + 3 * MIN).toISOString());
    expect(halts).toHaveLength(1);
    expect(halts[0]).toMatchObject({ scope: 'global', until: '2024-09-03T00:00:00.000Z' });
    await eventually(async () => events.find((e) => e.type === 'risk.halted'));
    const halted = events.filter((e) => e.type === 'risk.halted');
    expect(halted[0].payload).toMatchObject({ scope: 'global', until: '2024-09-03T00:00:00.000Z' });

    // the halt stands for the day: another opening order is refused by it, and not recorded again
    const again = await placeManualOrder(
      ctx,
      ManualOrderSchema.parse({ symbol: 'LOSS', side: 'buy', qty: '1' }),
    ).catch((e) => e);
    expect(again).toMatchObject({ status: 422, code: 'trading_halted' });
    expect(await count(t.sql, 'trading_halts')).toBe(1);
    // closing the losing position is still allowed
    expect(
      (
        await placeManualOrder(
          ctx,
          ManualOrderSchema.parse({ symbol: 'LOSS', side: 'sell', qty: '10', timeInForce: 'gtc' }),
        )
      ).outcome,
    ).toBe('ordered');
    // the next UTC day, the halt has lapsed, and yesterday's loss on the position held overnight does
    // not count against today
    const nextDay = Date.UTC(2024, 8, 3, 0, 1);
    setClock(nextDay);
    expect(await activeHalts(t.sql, new Date(nextDay).toISOString())).toHaveLength(0);
    expect(await dayPnl(t.sql, nextDay)).toBe('0');
    await storeBars(t.sql, [bar('LOSS', Date.UTC(2024, 8, 3, 0, 0), 93, { open: 94 })]);
    setClock(nextDay + MIN);
    expect(await dayPnl(t.sql, nextDay + MIN)).toBe('-10'); // 10 held since midnight, 94 → 93
    await t.sql`UPDATE orders SET status = 'canceled' WHERE side = 'sell'`;
    expect(
      (
        await placeManualOrder(
          ctx,
          ManualOrderSchema.parse({ symbol: 'LOSS', side: 'buy', qty: '1', timeInForce: 'gtc' }),
        )
      ).outcome,
    ).toBe('ordered');
  });
});
