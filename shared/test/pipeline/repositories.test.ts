import { describe, expect, it } from 'vitest';
import {
  advanceCursor,
  clearHalts,
  createStrategyIfMissing,
  decodeCursor,
  encodeCursor,
  getCursors,
  getSetting,
  InvalidCursorError,
  insertAccountSnapshot,
  insertSignals,
  latestAccountSnapshot,
  listAccountSnapshots,
  listOrders,
  listSignals,
  listStrategies,
  listTrades,
  pgArray,
  putSetting,
  recordHalt,
  upsertStrategy,
} from '../../src/db/index.ts';
import { Order, Signal, StrategyConfig, Trade } from '../../src/schemas/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';

describe('repositories', () => {
  const t = useTestDatabase();

  it('page with keyset cursors without skipping or repeating rows that share an instant', async () => {
    // 57 orders in 4 groups of identical created_at (microseconds apart between groups).
    const rows = Array.from({ length: 57 }, (_, i) => ({
      client_order_id: `k-${i}`,
      exchange: 'sim',
      strategy: 'manual',
      symbol: 'KEYS',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      qty: '1',
      status: 'new',
      created_at: new Date(Date.UTC(2024, 0, 1) + Math.floor(i / 15)),
    }));
    await t.sql`INSERT INTO orders ${t.sql(rows)}`;
    await t.sql`UPDATE orders SET created_at = created_at + (id % 3) * interval '1 microsecond' WHERE symbol = 'KEYS'`;
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await listOrders(t.sql, { symbol: 'KEYS', limit: 10, cursor });
      for (const o of page.items) expect(Order.safeParse(o).success).toBe(true);
      seen.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(6);
    expect(new Set(seen).size).toBe(57);
    const expected = await t.sql<{ id: number }[]>`
      SELECT id FROM orders WHERE symbol = 'KEYS' ORDER BY created_at DESC, id DESC`;
    expect(seen).toEqual(expected.map((r) => r.id));
    expect((await listOrders(t.sql, { symbol: 'KEYS', status: ['open'], limit: 500 })).items).toHaveLength(
      57,
    );
  });

  it('rejects a cursor it did not issue', async () => {
    expect(decodeCursor(encodeCursor({ micros: 1704067200000123, id: 42 }))).toEqual({
      micros: 1704067200000123,
      id: 42,
    });
    expect(() => decodeCursor('not-a-cursor')).toThrow(InvalidCursorError);
    await expect(
      listTrades(t.sql, { cursor: Buffer.from("1.1'; DROP TABLE trades").toString('base64url') }),
    ).rejects.toThrow(InvalidCursorError);
  });

  it('store strategies, never move a cursor back, and return schema-valid rows', async () => {
    const base = {
      name: 'repo-s',
      module: 'sma-crossover',
      params: { fast: 5, slow: 20 },
      enabled: false,
      symbols: ['AAA', 'BRK.B', 'BTC/USD'],
      timeframe: '5Min' as const,
      exchange: null,
      sizing: { type: 'fixed_notional' as const, notional: '250' },
    };
    const created = await createStrategyIfMissing(t.sql, base);
    expect(created.created).toBe(true);
    expect(StrategyConfig.safeParse(created.strategy).success).toBe(true);
    expect(created.strategy.symbols).toEqual(['AAA', 'BRK.B', 'BTC/USD']);
    expect((await createStrategyIfMissing(t.sql, { ...base, enabled: true })).created).toBe(false);
    const updated = await upsertStrategy(t.sql, { ...base, enabled: true, symbols: ['AAA'] });
    expect(updated).toMatchObject({ id: created.strategy.id, enabled: true, symbols: ['AAA'] });
    expect((await listStrategies(t.sql, { enabled: true })).map((s) => s.name)).toContain('repo-s');
    await advanceCursor(t.sql, updated.id, 'AAA', Date.UTC(2024, 0, 2));
    await advanceCursor(t.sql, updated.id, 'AAA', Date.UTC(2024, 0, 1));
    expect((await getCursors(t.sql, updated.id)).get('AAA')).toBe(Date.UTC(2024, 0, 2));
  });

  it('insert signals once and list them as the schema says', async () => {
    const s = {
      strategy: 'repo-s',
      symbol: 'AAA',
      timeframe: '5Min' as const,
      barTime: Date.UTC(2024, 0, 3),
      side: 'buy' as const,
      price: 10.5,
    };
    const first = await insertSignals(t.sql, [s, { ...s, barTime: s.barTime + 300_000, side: 'sell' }]);
    expect(first).toHaveLength(2);
    expect(await insertSignals(t.sql, [s])).toEqual([]);
    const page = await listSignals(t.sql, { strategy: 'repo-s' });
    expect(page.items.map((x) => x.side)).toEqual(['sell', 'buy']);
    for (const x of page.items) expect(Signal.safeParse(x).success).toBe(true);
  });

  it('record one halt per scope while it is in force, and settings as JSON', async () => {
    const now = new Date().toISOString();
    const a = await recordHalt(t.sql, { scope: 'global', reason: 'a', until: null, now });
    const b = await recordHalt(t.sql, { scope: 'global', reason: 'b', until: null, now });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ created: false, halt: { id: a.halt.id, reason: 'a' } });
    expect(await clearHalts(t.sql, 'global', now)).toHaveLength(1);
    expect((await recordHalt(t.sql, { scope: 'global', reason: 'c', until: null, now })).created).toBe(true);
    await putSetting(t.sql, 'risk_limits', { maxOpenOrders: 3 });
    await putSetting(t.sql, 'risk_limits', { maxOpenOrders: 4 });
    expect(await getSetting(t.sql, 'risk_limits')).toEqual({ maxOpenOrders: 4 });
    expect(await getSetting(t.sql, 'nope')).toBeNull();
  });

  it('keep account snapshots and trades in keyset order', async () => {
    for (const [i, cash] of ['100', '99.5', '101.25'].entries()) {
      await insertAccountSnapshot(t.sql, {
        exchange: 'sim',
        accountId: 'default',
        currency: 'USD',
        cash,
        equity: cash,
        buyingPower: cash,
        dayPnl: null,
        at: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
      });
    }
    expect((await latestAccountSnapshot(t.sql, 'sim'))?.cash).toBe('101.25');
    const first = await listAccountSnapshots(t.sql, { exchange: 'sim', limit: 2 });
    const second = await listAccountSnapshots(t.sql, { exchange: 'sim', limit: 2, cursor: first.nextCursor });
    expect([...first.items, ...second.items].map((s) => s.cash)).toEqual(['101.25', '99.5', '100']);
    expect(second.nextCursor).toBeNull();
    expect((await listTrades(t.sql)).items.every((x) => Trade.safeParse(x).success)).toBe(true);
  });

  it('write array parameters as escaped literals', async () => {
    const tricky = ['A"B', 'C\\D', 'E,F', '{G}'];
    const [row] = await t.sql<{ v: string[] }[]>`SELECT ${pgArray(tricky)}::text[] AS v`;
    expect(row.v).toEqual(tricky);
  });
});
