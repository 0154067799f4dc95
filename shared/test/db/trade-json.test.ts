/**
 * Trades store the JSON the API sends for them (migration 0600's generated `api_json` column). Its SQL
 * expression is written out in the migration; here it must agree, byte for byte, with what
 * jsonObjectSql(TRADE_FIELDS) builds at read time, on rows chosen to break a hand-written encoder.
 */
import { describe, expect, it } from 'vitest';
import { jsonObjectSql, listTrades, TRADE_FIELDS } from '../../src/db/index.ts';
import { Trade } from '../../src/schemas/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';

const AWKWARD = [
  // strategy, symbol, side, qty, price, fee, realized_pnl, position_after, executed_at
  ['plain', 'AAPL', 'buy', '10', '187.5', '0', '0', '10', '2025-03-03T14:31:00Z'],
  [
    'crypto-1',
    'BTC/USD',
    'sell',
    '0.000000001',
    '65000.123456789',
    '0.10',
    '-12.5000',
    '-0.5',
    '1969-12-31T23:59:59.999Z',
  ],
  // Text the API's schemas would refuse, but a hand-written encoder must still escape.
  ['quote"and\\back', 'X', 'sell', '1', '1', '0', '0', '0', '2025-01-01T00:00:00Z'],
  [
    'line\nbreak\ttab\u0001ctl',
    'ÄÖÜ',
    'buy',
    '1.50000',
    '0.0001',
    '1E+3',
    '123456789012345.678901',
    '0',
    '2024-02-29T23:59:59.123456Z',
  ],
  ['emoji 🚀 </script>', 'ETH/USDT', 'sell', '3', '1e-8', '2.5e2', '-0', '-3', '2000-01-01T00:00:00.0005Z'],
] as const;

describe('stored trade JSON', () => {
  const t = useTestDatabase();

  it('is what the read-time encoder builds, parses as a Trade, and is what the list sends', async () => {
    const [order] = await t.sql<{ id: number }[]>`
      INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status)
      VALUES ('json-1', 'sim', 'manual', 'AAPL', 'buy', 'market', 'day', 1, 'filled') RETURNING id`;
    for (const [i, row] of AWKWARD.entries()) {
      const [strategy, symbol, side, qty, price, fee, pnl, after, at] = row;
      const [fill] = await t.sql<{ id: number }[]>`
        INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, fee, filled_at)
        VALUES (${order.id}, ${`f${i}`}, ${symbol}, ${side}, ${qty}, ${price}, ${fee}, ${at})
        RETURNING id`;
      await t.sql`
        INSERT INTO trades (fill_id, order_id, strategy, symbol, side, qty, price, fee, realized_pnl, position_after, executed_at)
        VALUES (${fill.id}, ${order.id}, ${strategy}, ${symbol}, ${side}, ${qty}, ${price}, ${fee}, ${pnl}, ${after}, ${at})`;
    }
    // An update recomputes it too (a correction of a booked trade).
    await t.sql`UPDATE trades SET fee = 0.25 WHERE strategy = 'plain'`;

    const rows = await t.sql<{ stored: string; built: string }[]>`
      SELECT api_json AS stored, ${t.sql.unsafe(jsonObjectSql(TRADE_FIELDS))} AS built FROM trades ORDER BY id`;
    expect(rows).toHaveLength(AWKWARD.length);
    for (const [i, r] of rows.entries()) {
      expect(r.stored).toBe(r.built);
      expect(JSON.parse(r.stored).strategy).toBe(AWKWARD[i][0]);
    }
    const first = Trade.parse(JSON.parse(rows[0].stored));
    expect(first.fee).toBe('0.25');
    const second = Trade.parse(JSON.parse(rows[1].stored));
    expect(second).toMatchObject({
      symbol: 'BTC/USD',
      qty: '0.000000001',
      realizedPnl: '-12.5',
      executedAt: '1969-12-31T23:59:59.999Z',
    });
    expect(JSON.parse(rows[3].stored)).toMatchObject({
      qty: '1.5',
      fee: '1000',
      executedAt: '2024-02-29T23:59:59.123Z',
    });
    expect(JSON.parse(rows[4].stored)).toMatchObject({
      price: '0.00000001',
      realizedPnl: '0',
      positionAfter: '-3',
    });

    const page = await listTrades(t.sql, { limit: 10 });
    expect(page.items.map((x) => JSON.stringify(x)).sort()).toEqual(
      rows.map((r) => JSON.stringify(JSON.parse(r.built))).sort(),
    );
  });
});
