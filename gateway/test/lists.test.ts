import { OrderDetail, OrderPage, SignalPage, TradePage } from '@weaver/shared/schemas';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedOrder, seedSignals, seedTrades } from './fixtures.ts';
import { useGateway } from './harness.ts';

const h = useGateway();

const minutes = (n: number, base = Date.parse('2025-03-03T15:00:00Z')): string =>
  new Date(base + n * 60_000).toISOString();

describe('GET /api/trades', () => {
  beforeAll(async () => {
    await seedTrades(h.sql, [
      {
        executedAt: minutes(0),
        strategy: 'alpha',
        symbol: 'ACME',
        side: 'buy',
        qty: '1.50',
        price: '100.10',
      },
      {
        executedAt: minutes(1),
        strategy: 'alpha',
        symbol: 'ACME',
        side: 'sell',
        realizedPnl: '-2.5',
        fee: '0.01',
      },
      { executedAt: minutes(2), strategy: 'beta', symbol: 'GLOBEX', side: 'buy' },
      { executedAt: minutes(3), strategy: 'beta', symbol: 'BTC/USD', side: 'sell', realizedPnl: '12.25' },
    ]);
  });

  it('lists newest first in the Trade shape, decimals canonical', async () => {
    const { status, body } = await h.json<TradePage>('/api/trades');
    expect(status).toBe(200);
    const page = TradePage.parse(body);
    expect(page.items.map((t) => t.executedAt)).toEqual([minutes(3), minutes(2), minutes(1), minutes(0)]);
    expect(page.nextCursor).toBeNull();
    const first = page.items[3];
    expect(first).toMatchObject({ qty: '1.5', price: '100.1', fee: '0', strategy: 'alpha', side: 'buy' });
    expect(page.items[2]).toMatchObject({ realizedPnl: '-2.5', fee: '0.01' });
  });

  it('filters by strategy, symbol (case-insensitive, with a slash), side and date range', async () => {
    const byStrategy = TradePage.parse((await h.json('/api/trades?strategy=beta')).body);
    expect(byStrategy.items.map((t) => t.strategy)).toEqual(['beta', 'beta']);
    const bySymbol = TradePage.parse(
      (await h.json(`/api/trades?symbol=${encodeURIComponent('btc/usd')}`)).body,
    );
    expect(bySymbol.items.map((t) => t.symbol)).toEqual(['BTC/USD']);
    const bySide = TradePage.parse((await h.json('/api/trades?side=sell')).body);
    expect(bySide.items.map((t) => t.side)).toEqual(['sell', 'sell']);
    const range = TradePage.parse((await h.json(`/api/trades?from=${minutes(1)}&to=${minutes(2)}`)).body);
    expect(range.items.map((t) => t.executedAt)).toEqual([minutes(2), minutes(1)]);
    const day = TradePage.parse((await h.json('/api/trades?from=2025-03-03&to=2025-03-04')).body);
    expect(day.items).toHaveLength(4);
  });

  it('refuses bad filters with 400 naming each field', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['side=short', 'side'],
      ['symbol=not%20a%20symbol', 'symbol'],
      ['strategy=Bad_Name', 'strategy'],
      ['from=yesterday', 'from'],
      [`from=${minutes(5)}&to=${minutes(1)}`, 'from'],
      ['cursor=!!', 'cursor'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ];
    for (const [qs, field] of cases) {
      const { status, body } = await h.json<{ error: { code: string; fields: Record<string, string> } }>(
        `/api/trades?${qs}`,
      );
      expect(status, qs).toBe(400);
      expect(body.error.code, qs).toBe('invalid_input');
      expect(Object.keys(body.error.fields), qs).toContain(field);
    }
  });
});

describe('keyset pagination', () => {
  it('pages through trades without duplicates or gaps while new trades keep arriving', async () => {
    const base = Date.parse('2024-06-01T00:00:00Z');
    // 47 trades, several sharing one microsecond-exact instant, so the id breaks ties.
    const seeded = await seedTrades(
      h.sql,
      Array.from({ length: 47 }, (_, i) => ({
        strategy: 'paging',
        executedAt: new Date(base + Math.floor(i / 3) * 1000).toISOString(),
      })),
    );
    const seen: number[] = [];
    const keys: [number, number][] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = `strategy=paging&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const page = TradePage.parse((await h.json(`/api/trades?${qs}`)).body);
      seen.push(...page.items.map((t) => t.id));
      keys.push(...page.items.map((t): [number, number] => [Date.parse(t.executedAt), t.id]));
      cursor = page.nextCursor;
      pages++;
      // Trades arriving while the user pages: newer ones (above the cursor) and a late one inside the
      // range already read (executed before everything read so far, recorded now).
      await seedTrades(h.sql, [
        { strategy: 'paging', executedAt: new Date(base + 10_000_000 + pages).toISOString() },
        { strategy: 'paging', executedAt: new Date(base - pages * 1_000).toISOString() },
      ]);
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(10);
    expect(new Set(seen).size).toBe(seen.length);
    // One strictly descending (time, id) sequence across all pages: nothing repeated, nothing skipped.
    for (let i = 1; i < keys.length; i++) {
      const [t0, id0] = keys[i - 1];
      const [t1, id1] = keys[i];
      expect(t1 < t0 || (t1 === t0 && id1 < id0), `row ${i}`).toBe(true);
    }
    // Trades recorded late but executed below the cursor are still reached; newer ones wait for a refresh.
    const late = (
      await h.sql<{ id: number }[]>`
      SELECT id FROM trades WHERE strategy = 'paging' AND executed_at < ${new Date(base).toISOString()}::timestamptz`
    ).map((r) => r.id);
    expect(late.filter((id) => !seen.includes(id)).length).toBeLessThanOrEqual(1);
    // Every trade that existed when paging began was seen exactly once, in newest-first order.
    expect(seen.filter((id) => seeded.includes(id)).sort((a, b) => a - b)).toEqual(seeded);
    const firstPageSize = 5;
    expect(seen.slice(0, firstPageSize)).toEqual([...seeded].reverse().slice(0, firstPageSize));
  });

  it('pages orders and signals the same way', async () => {
    for (let i = 0; i < 7; i++) await seedOrder(h.sql, { strategy: 'pager', createdAt: minutes(i) });
    const ids: number[] = [];
    let cursor: string | null = null;
    do {
      const page = OrderPage.parse(
        (await h.json(`/api/orders?strategy=pager&limit=3${cursor ? `&cursor=${cursor}` : ''}`)).body,
      );
      ids.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);

    await seedSignals(
      h.sql,
      Array.from({ length: 5 }, (_, i) => ({ strategy: 'pager', barTime: minutes(i) })),
    );
    const first = SignalPage.parse((await h.json('/api/signals?strategy=pager&limit=2')).body);
    const second = SignalPage.parse(
      (await h.json(`/api/signals?strategy=pager&limit=2&cursor=${first.nextCursor}`)).body,
    );
    const third = SignalPage.parse(
      (await h.json(`/api/signals?strategy=pager&limit=2&cursor=${second.nextCursor}`)).body,
    );
    const all = [...first.items, ...second.items, ...third.items].map((s) => s.id);
    expect(new Set(all).size).toBe(5);
    expect(third.nextCursor).toBeNull();
  });
});

describe('GET /api/orders', () => {
  it('filters by status groups and exact statuses, and shows one order with its history', async () => {
    const { orderId: open } = await seedOrder(h.sql, { strategy: 'status', status: 'accepted' });
    const { orderId: filled } = await seedOrder(h.sql, { strategy: 'status', status: 'filled' });
    const { orderId: canceled } = await seedOrder(h.sql, { strategy: 'status', status: 'canceled' });
    await h.sql`INSERT INTO order_status_history (order_id, status) VALUES (${open}, 'pending_submit'), (${open}, 'accepted')`;

    const ids = async (qs: string) =>
      OrderPage.parse((await h.json(`/api/orders?strategy=status&${qs}`)).body).items.map((o) => o.id);
    expect(await ids('status=open')).toEqual([open]);
    expect(await ids('status=closed')).toEqual([canceled, filled]);
    expect(await ids('status=filled,accepted')).toEqual([filled, open]);
    expect(await ids('status=open,canceled')).toEqual([canceled, open]);

    const bad = await h.json<{ error: { fields: Record<string, string> } }>('/api/orders?status=lost');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields)[0]).toMatch(/^status/);

    const detail = await h.json<OrderDetail>(`/api/orders/${open}`);
    expect(detail.status).toBe(200);
    expect(OrderDetail.parse(detail.body).history.map((x) => x.status)).toEqual([
      'pending_submit',
      'accepted',
    ]);

    // Text is escaped as JSON by Postgres: quotes, backslashes, newlines, control characters, unicode.
    const nasty = 'venue said: "no"\\ \n\ttab \u0001 é 🚀';
    await h.sql`UPDATE orders SET error_message = ${nasty}, error_code = 'x', trail_percent = 1.2500 WHERE id = ${canceled}`;
    const page = OrderPage.parse((await h.json('/api/orders?strategy=status&status=canceled')).body);
    expect(page.items[0]).toMatchObject({
      errorMessage: nasty,
      errorCode: 'x',
      trailPercent: '1.25',
      notional: null,
    });

    const missing = await h.json<{ error: { code: string; fields: Record<string, string> } }>(
      '/api/orders/999999',
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.fields).toEqual({ id: 'not found' });
    const notAnId = await h.json<{ error: { fields: Record<string, string> } }>('/api/orders/abc');
    expect(notAnId.status).toBe(400);
    expect(notAnId.body.error.fields).toHaveProperty('id');
  });
});
