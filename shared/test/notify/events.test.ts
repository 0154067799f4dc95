import { describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../src/bus/index.ts';
import { dailySummary, notificationsFor, summaryNotification } from '../../src/notify/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';

describe('what a trader hears about', () => {
  const tdb = useTestDatabase();

  it('a recorded trade is a fill notice keyed by the trade', async () => {
    const e = makeEnvelope(
      'trades.recorded',
      {
        trades: [
          {
            id: 7,
            strategy: 'sma',
            symbol: 'AAPL',
            side: 'sell',
            qty: '10',
            price: '187.5',
            realizedPnl: '-12.25',
          },
        ],
      },
      { correlationId: 'c-1' },
    );
    expect(await notificationsFor(tdb.sql, e)).toEqual([
      {
        dedupeKey: 'trade:7',
        notification: {
          kind: 'fill',
          severity: 'info',
          title: 'Filled: SELL 10 AAPL @ 187.5',
          text: '',
          fields: [
            { name: 'Strategy', value: 'sma' },
            { name: 'Realized P&L', value: '-12.25' },
          ],
          occurredAt: e.occurredAt,
          correlationId: 'c-1',
        },
      },
    ]);
  });

  it('rejected and failed orders carry the reason from the order row; other updates say nothing', async () => {
    const [o] = await tdb.sql<{ id: number }[]>`
      INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status,
                          error_code, error_message)
      VALUES ('w-1', 'alpaca', 'sma', 'AAPL', 'buy', 'market', 'day', 1, 'rejected', '40310000', 'insufficient buying power')
      RETURNING id`;
    const order = (id: number, status: 'rejected' | 'filled') => ({
      id,
      clientOrderId: 'w-1',
      strategy: 'sma',
      symbol: 'AAPL',
      side: 'buy' as const,
      status,
      filledQty: '0',
    });
    const rejected = makeEnvelope(
      'orders.updated',
      { orders: [order(o.id, 'rejected')] },
      { correlationId: 'c' },
    );
    const [n] = await notificationsFor(tdb.sql, rejected);
    expect(n.dedupeKey).toBe(`order-rejected:${o.id}`);
    expect(n.notification).toMatchObject({
      kind: 'rejection',
      severity: 'warning',
      title: 'Order rejected: BUY AAPL (sma)',
      text: '40310000: insufficient buying power',
    });
    const filled = makeEnvelope(
      'orders.updated',
      { orders: [order(o.id, 'filled')] },
      { correlationId: 'c' },
    );
    expect(await notificationsFor(tdb.sql, filled)).toEqual([]);
  });

  it('halts and function failures are critical; the notify function never reports itself', async () => {
    const halt = makeEnvelope(
      'risk.halted',
      { scope: 'global', reason: 'daily loss limit 500 reached', until: null },
      { correlationId: 'c' },
    );
    expect((await notificationsFor(tdb.sql, halt))[0].notification).toMatchObject({
      kind: 'halt',
      severity: 'critical',
      title: 'Trading halted (global)',
      text: 'daily loss limit 500 reached',
    });
    const failed = makeEnvelope(
      'functions.failed',
      { functionName: 'place-order', runId: 3, error: 'boom' },
      { correlationId: 'c' },
    );
    expect((await notificationsFor(tdb.sql, failed))[0]).toMatchObject({
      dedupeKey: `error:${failed.id}`,
      notification: { kind: 'error', title: 'Function failed: place-order', text: 'boom' },
    });
    const self = makeEnvelope(
      'functions.failed',
      { functionName: 'notify', runId: 4, error: 'x' },
      { correlationId: 'c' },
    );
    expect(await notificationsFor(tdb.sql, self)).toEqual([]);
    const other = makeEnvelope(
      'strategies.changed',
      { name: 'sma', change: 'enabled' },
      { correlationId: 'c' },
    );
    expect(await notificationsFor(tdb.sql, other)).toEqual([]);
  });

  it('the daily summary counts one UTC day and the equity change over it', async () => {
    const sql = tdb.sql;
    await sql`INSERT INTO account_snapshots (exchange, cash, equity, buying_power, at) VALUES
      ('alpaca', 1, 10000, 1, '2026-03-01T23:00:00Z'),
      ('alpaca', 1, 10150.5, 1, '2026-03-02T20:00:00Z'),
      ('alpaca', 1, 99999, 1, '2026-03-03T01:00:00Z')`;
    const [o] = await sql<{ id: number }[]>`
      INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status,
                          submitted_at, updated_at)
      VALUES ('s-1', 'alpaca', 'sma', 'MSFT', 'buy', 'market', 'day', 2, 'filled', '2026-03-02T15:00:00Z',
              '2026-03-02T15:00:01Z') RETURNING id`;
    const [f] = await sql<{ id: number }[]>`
      INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, filled_at)
      VALUES (${o.id}, 'f', 'MSFT', 'buy', 2, 400, '2026-03-02T15:00:01Z') RETURNING id`;
    await sql`INSERT INTO trades (fill_id, order_id, strategy, symbol, side, qty, price, realized_pnl, position_after,
                executed_at) VALUES (${f.id}, ${o.id}, 'sma', 'MSFT', 'buy', 2, 400, 20.75, 2, '2026-03-02T15:00:01Z')`;
    await sql`INSERT INTO trading_halts (scope, reason, created_at) VALUES ('global', 'x', '2026-03-02T16:00:00Z')`;
    const s = await dailySummary(sql, '2026-03-02');
    expect(s).toMatchObject({
      date: '2026-03-02',
      trades: 1,
      realizedPnl: '20.75',
      ordersSubmitted: 1,
      ordersFilled: 1,
      halts: 1,
      equity: [{ exchange: 'alpaca', equity: '10150.5', change: '150.5' }],
    });
    const n = summaryNotification(s);
    expect(n).toMatchObject({
      kind: 'daily_summary',
      severity: 'warning',
      title: 'Daily summary 2026-03-02',
    });
    expect(n.text).toContain('1 trades, realized P&L +20.75.');
    expect(n.fields).toContainEqual({ name: 'Equity (alpaca)', value: '10150.5 (+150.5)' });
    expect((await dailySummary(sql, '2026-02-01')).trades).toBe(0);
  });
});
