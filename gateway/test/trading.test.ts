/**
 * Manual control through the API against the simulated exchange and the real pipeline: orders, cancels,
 * positions, the kill switch, risk limits.
 */
import { randomUUID } from 'node:crypto';
import { upsertBars } from '@weaver/shared/db';
import { refreshOrder } from '@weaver/shared/pipeline';
import {
  AccountSummary,
  type Bar,
  CloseResult,
  EquityHistory,
  HaltResult,
  HaltStatus,
  ManualOrderResult,
  Order,
  PnlCalendar,
  PositionList,
  RiskLimitsView,
} from '@weaver/shared/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from './harness.ts';

const h = useGateway({ overrides: { env: { WEAVER_ACCOUNT_CACHE_MS: 0 } } });

const T0 = Date.UTC(2024, 2, 4, 10, 0);
const MIN = 60_000;
/** Moves the process clock (the sim's and the gateway's "now") to T0 + `minutes`. */
const at = (minutes: number): void => {
  process.env.WEAVER_CLOCK = `${T0 + minutes * MIN}@${Date.now()}x1`;
};
const bar = (i: number, price: number): Bar => ({
  symbol: 'TST',
  timeframe: '1Min',
  time: new Date(T0 + i * MIN).toISOString(),
  open: price,
  high: price + 0.5,
  low: price - 0.5,
  close: price,
  volume: 1000,
});
type ErrorAnswer = { error: { code: string; message: string; fields: Record<string, string> } };
const ctx = () => ({ sql: h.sql, bus: async () => h.bus, correlationId: randomUUID() });

beforeAll(async () => {
  await upsertBars(
    h.sql,
    Array.from({ length: 10 }, (_, i) => bar(i, 100)),
  );
  at(10.2);
});
afterAll(() => {
  delete process.env.WEAVER_CLOCK;
});

describe('account and manual orders', () => {
  it('reads the account from the configured exchange', async () => {
    const { status, body } = await h.json('/api/account');
    expect(status).toBe(200);
    const a = AccountSummary.parse(body);
    expect(a).toMatchObject({
      exchange: 'sim',
      cash: '100000',
      equity: '100000',
      source: 'exchange',
      halted: false,
      // The sim reports no day P&L: the risk module's mark-to-market since UTC midnight, nothing yet.
      dayPnl: '0',
    });
    // The read is kept as a snapshot: the equity curve's source.
    const curve = EquityHistory.parse((await h.json('/api/account/equity')).body);
    expect(curve.points.length).toBeGreaterThanOrEqual(1);
    expect(curve.points.at(-1)?.equity).toBe('100000');
  });

  it('refuses bad orders with 400 naming the field, and writes nothing', async () => {
    const cases: [unknown, string][] = [
      [{ symbol: 'TST', side: 'buy' }, 'qty'],
      [{ symbol: 'TST', side: 'buy', qty: '-1' }, 'qty'],
      [{ symbol: 'TST', side: 'buy', qty: 'ten' }, 'qty'],
      [{ symbol: 'TST', side: 'hold', qty: '1' }, 'side'],
      [{ symbol: 'TST', side: 'buy', qty: '1', type: 'limit' }, 'limitPrice'],
      [{ symbol: 'TST', side: 'buy', qty: '1', leverage: 10 }, 'leverage'],
      [{ side: 'buy', qty: '1' }, 'symbol'],
      [{ symbol: 'NOPE', side: 'buy', qty: '1' }, 'symbol'],
      [{ symbol: 'TST', side: 'buy', qty: '1', strategy: 'no-such-book' }, 'strategy'],
    ];
    for (const [body, field] of cases) {
      const res = await h.json<ErrorAnswer>('/api/orders', { method: 'POST', json: body });
      expect([400, 404], JSON.stringify(body)).toContain(res.status);
      const fields = Object.keys(res.body.error.fields);
      expect(
        fields.some((f) => f === field || f.startsWith(`${field}`)),
        `${JSON.stringify(body)} → ${fields}`,
      ).toBe(true);
    }
    const [{ n }] = await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM orders`;
    expect(n).toBe(0);
  });

  it('places, cancels and fills orders; positions follow the fills', async () => {
    const placed = await h.json<ManualOrderResult>('/api/orders', {
      method: 'POST',
      json: { symbol: 'tst', side: 'buy', qty: '2', type: 'limit', limitPrice: '50', timeInForce: 'gtc' },
    });
    expect(placed.status).toBe(201);
    const r = ManualOrderResult.parse(placed.body);
    expect(r.outcome).toBe('ordered');
    expect(r.order).toMatchObject({
      strategy: 'manual',
      symbol: 'TST',
      side: 'buy',
      qty: '2',
      limitPrice: '50',
    });

    const canceled = await h.json<Order>(`/api/orders/${r.order?.id}/cancel`, { method: 'POST' });
    expect(canceled.status).toBe(200);
    expect(Order.parse(canceled.body).status).toBe('canceled');
    const again = await h.json<ErrorAnswer>(`/api/orders/${r.order?.id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    const missing = await h.json<ErrorAnswer>('/api/orders/987654/cancel', { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.fields).toHaveProperty('id');

    // A market buy fills at the next bar's open.
    const idem = `api-test-${Date.now() % 1e6}`;
    const market = ManualOrderResult.parse(
      (
        await h.json('/api/orders', {
          method: 'POST',
          json: { symbol: 'TST', side: 'buy', qty: '3', clientOrderId: idem },
        })
      ).body,
    );
    expect(market.outcome).toBe('ordered');
    // The same clientOrderId again places nothing new.
    const repeat = ManualOrderResult.parse(
      (
        await h.json('/api/orders', {
          method: 'POST',
          json: { symbol: 'TST', side: 'buy', qty: '3', clientOrderId: idem },
        })
      ).body,
    );
    expect(repeat.order?.id).toBe(market.order?.id);
    await upsertBars(h.sql, [bar(10, 101), bar(11, 102)]);
    at(12.5);
    const filled = await refreshOrder(ctx(), market.order?.id as number);
    expect(filled?.status).toBe('filled');

    const positions = PositionList.parse((await h.json('/api/positions')).body);
    expect(positions.items).toHaveLength(1);
    expect(positions.items[0]).toMatchObject({
      strategy: 'manual',
      symbol: 'TST',
      qty: '3',
      avgPrice: '101',
      lastPrice: 102,
    });
    expect(positions.items[0].unrealizedPnl).toBe('3');
    expect(positions.items[0].marketValue).toBe('306');
    // Bought 3 at 101 today, marked at 102.
    expect(AccountSummary.parse((await h.json('/api/account')).body).dayPnl).toBe('3');

    const pnl = PnlCalendar.parse((await h.json('/api/pnl?period=day&from=2024-03-01')).body);
    expect(pnl.buckets).toEqual([{ start: '2024-03-04', realizedPnl: '0', fees: '0', trades: 1 }]);
  });

  it('sets risk limits through the API and enforces them on manual orders (422, nothing placed)', async () => {
    const bad = await h.json<ErrorAnswer>('/api/risk-limits', {
      method: 'PUT',
      json: { maxOrderNotional: '-5' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('maxOrderNotional');
    const unknown = await h.json<ErrorAnswer>('/api/risk-limits', {
      method: 'PUT',
      json: { maxLeverage: 3 },
    });
    expect(unknown.status).toBe(400);
    const set = await h.json<RiskLimitsView>('/api/risk-limits', {
      method: 'PUT',
      json: { maxOrderNotional: 50, maxOpenOrders: 3 },
    });
    expect(set.status).toBe(200);
    expect(RiskLimitsView.parse((await h.json('/api/risk-limits')).body)).toEqual({
      limits: { maxOrderNotional: '50', maxOpenOrders: 3 },
      problem: null,
    });

    const before = (await h.sql`SELECT count(*)::int AS n FROM orders`)[0].n;
    const res = await h.json<ErrorAnswer>('/api/orders', {
      method: 'POST',
      json: { symbol: 'TST', side: 'buy', qty: '1' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/risk/);
    expect((await h.sql`SELECT count(*)::int AS n FROM orders`)[0].n).toBe(before);
    expect((await h.json('/api/risk-limits', { method: 'PUT', json: {} })).status).toBe(200);
  });
});

describe('kill switch', () => {
  it('halts: cancels open orders, blocks new ones, keeps positions unless asked to flatten; release restores', async () => {
    const open = ManualOrderResult.parse(
      (
        await h.json('/api/orders', {
          method: 'POST',
          json: { symbol: 'TST', side: 'buy', qty: '1', type: 'limit', limitPrice: '10', timeInForce: 'gtc' },
        })
      ).body,
    );
    expect(open.order?.status).not.toBe('canceled');

    const halted = await h.json<HaltResult>('/api/kill-switch', {
      method: 'POST',
      json: { reason: 'test halt' },
    });
    expect(halted.status).toBe(200);
    const r = HaltResult.parse(halted.body);
    expect(r).toMatchObject({ halted: true, canceledOrders: 1, flattenOrders: [], errors: [] });
    expect(r.halts.map((x) => [x.scope, x.reason])).toEqual([['global', 'test halt']]);
    expect(HaltStatus.parse((await h.json('/api/kill-switch')).body).halted).toBe(true);
    expect(AccountSummary.parse((await h.json('/api/account')).body).halted).toBe(true);
    const [order] = await h.sql`SELECT status FROM orders WHERE id = ${open.order?.id as number}`;
    expect(order.status).toBe('canceled');

    const refused = await h.json<ErrorAnswer>('/api/orders', {
      method: 'POST',
      json: { symbol: 'TST', side: 'buy', qty: '1' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('trading_halted');
    // Positions are kept.
    expect(PositionList.parse((await h.json('/api/positions')).body).items[0].qty).toBe('3');

    // Flatten while halted: closing orders reduce risk, so they pass.
    const flat = HaltResult.parse(
      (await h.json('/api/kill-switch', { method: 'POST', json: { reason: 'flatten', flatten: true } })).body,
    );
    expect(flat.flattenOrders).toHaveLength(1);
    expect(flat.flattenOrders[0]).toMatchObject({ symbol: 'TST', side: 'sell', qty: '3' });

    const released = await h.json<HaltStatus>('/api/kill-switch', { method: 'DELETE' });
    expect(HaltStatus.parse(released.body).halted).toBe(false);
    const ok = await h.json<ManualOrderResult>('/api/orders', {
      method: 'POST',
      json: { symbol: 'TST', side: 'buy', qty: '1', type: 'limit', limitPrice: '10', timeInForce: 'gtc' },
    });
    expect(ok.status).toBe(201);
  });

  it('closes one position (a repeated click closes once) or all, and refuses close-all without confirm', async () => {
    // The flatten above already sent the closing order for TST; closing it again is that same order.
    const [flattening] = await h.sql<{ id: number }[]>`
      SELECT id FROM orders WHERE symbol = 'TST' AND side = 'sell' ORDER BY id DESC LIMIT 1`;
    const again = CloseResult.parse(
      (await h.json('/api/positions/close', { method: 'POST', json: { strategy: 'manual', symbol: 'TST' } }))
        .body,
    );
    expect(again.orders.map((o) => o.id)).toEqual([flattening.id]);
    // Once it fills, the book is flat and there is nothing left to close.
    await upsertBars(h.sql, [bar(13, 103)]);
    at(14.5);
    expect((await refreshOrder(ctx(), flattening.id))?.status).toBe('filled');
    expect(PositionList.parse((await h.json('/api/positions')).body).items).toEqual([]);
    const none = await h.json<ErrorAnswer>('/api/positions/close', {
      method: 'POST',
      json: { strategy: 'manual', symbol: 'TST' },
    });
    expect(none.status).toBe(409);
    expect(none.body.error.fields).toHaveProperty('symbol');
    const badSymbol = await h.json<ErrorAnswer>('/api/positions/close', {
      method: 'POST',
      json: { strategy: 'manual' },
    });
    expect(badSymbol.status).toBe(400);
    expect(badSymbol.body.error.fields).toHaveProperty('symbol');

    const unconfirmed = await h.json<ErrorAnswer>('/api/positions/close-all', { method: 'POST', json: {} });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.error.fields).toHaveProperty('confirm');
    const all = await h.json<CloseResult>('/api/positions/close-all', {
      method: 'POST',
      json: { confirm: true },
    });
    expect(all.status).toBe(200);
    expect(CloseResult.parse(all.body)).toEqual({ orders: [], errors: [] });
  });
});
