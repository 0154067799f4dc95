import { upsertStrategy } from '@weaver/shared/db';
import {
  ReloadResult,
  RunStrategyResult,
  StrategyDetail,
  StrategyList,
  StrategyModuleList,
  StrategySummary,
} from '@weaver/shared/schemas';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedBars, seedOrder, seedSignals, seedTrades } from './fixtures.ts';
import { useGateway } from './harness.ts';

// Many changes in a row: a burst larger than a person's (the limiter itself is tested in auth.test.ts).
const h = useGateway({ overrides: { env: { WEAVER_API_RATE_BURST: 1000 } } });
type ErrorAnswer = { error: { code: string; message: string; fields: Record<string, string> } };

beforeAll(async () => {
  // postgres.js learns array types on a connection's first query; upsertStrategy's untyped sql.array()
  // fails as the very first statement of a fresh pool (reported to the data layer's owner).
  await h.sql`SELECT 1`;
  await upsertStrategy(h.sql, {
    name: 'trend',
    module: 'sma-crossover',
    params: { fast: 5, slow: 20 },
    enabled: true,
    symbols: ['ACME'],
    timeframe: '1Min',
    exchange: null,
    sizing: { type: 'fixed_qty', qty: '1' },
  });
  await upsertStrategy(h.sql, {
    name: 'idle',
    module: 'sma-crossover',
    params: { fast: 10, slow: 30 },
    enabled: false,
    symbols: ['GLOBEX'],
    timeframe: '1Min',
    exchange: null,
    sizing: { type: 'fixed_qty', qty: '1' },
  });
  await upsertStrategy(h.sql, {
    name: 'broken',
    module: 'no-such-module',
    params: {},
    enabled: true,
    symbols: ['ACME'],
    timeframe: '1Min',
    exchange: null,
    sizing: { type: 'fixed_qty', qty: '1' },
  });
  await seedSignals(h.sql, [
    { strategy: 'trend', barTime: '2025-01-01T10:00:00Z', side: 'buy' },
    { strategy: 'trend', barTime: '2025-01-01T10:05:00Z', side: 'sell' },
  ]);
  await seedTrades(h.sql, [{ strategy: 'trend', executedAt: '2025-01-01T10:06:00Z' }]);
  await h.sql`
    INSERT INTO positions (strategy, symbol, qty, avg_price, realized_pnl)
    VALUES ('trend', 'ACME', 2, 100, 12.5), ('trend', 'INITECH', 0, 0, -2.5)`;
  await seedBars(h.sql, 'ACME', '2025-01-01T09:00:00Z', 3);
});

describe('strategies', () => {
  it('lists each with status, last signal, P&L and open positions', async () => {
    const { status, body } = await h.json('/api/strategies');
    expect(status).toBe(200);
    const list = StrategyList.parse(body);
    const by = new Map(list.items.map((s) => [s.name, s]));
    expect(by.get('trend')).toMatchObject({
      status: 'running',
      realizedPnl: '10',
      openPositions: 1,
      // 2 × (last close 100.12 − 100)
      unrealizedPnl: '0.24',
    });
    expect(by.get('trend')?.lastSignal).toMatchObject({ side: 'sell', barTime: '2025-01-01T10:05:00.000Z' });
    expect(by.get('idle')).toMatchObject({
      status: 'disabled',
      lastSignal: null,
      openPositions: 0,
      realizedPnl: '0',
    });
    expect(by.get('broken')?.status).toBe('error');
    expect(by.get('broken')?.statusReason).toMatch(/no such strategy/);
  });

  it('lists modules with the JSON Schema of their parameters', async () => {
    const modules = StrategyModuleList.parse((await h.json('/api/strategies/modules')).body);
    const sma = modules.items.find((m) => m.name === 'sma-crossover');
    expect(sma?.paramsSchema).toMatchObject({ type: 'object', properties: { fast: { type: 'integer' } } });
    expect(sma?.defaults).toMatchObject({ fast: 10, slow: 30 });
  });

  it('shows one with its module, positions and recent signals; 404 for an unknown one', async () => {
    const detail = StrategyDetail.parse((await h.json('/api/strategies/trend')).body);
    expect(detail.moduleInfo?.name).toBe('sma-crossover');
    expect(detail.positions.map((p) => p.symbol).sort()).toEqual(['ACME', 'INITECH']);
    expect(detail.recentSignals).toHaveLength(2);
    const missing = await h.json<ErrorAnswer>('/api/strategies/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body.error.fields).toHaveProperty('name');
    const badName = await h.json<ErrorAnswer>('/api/strategies/Not_A_Slug');
    expect(badName.status).toBe(400);
  });

  it("validates params against the module's own schema, naming params.<field>", async () => {
    const bad = await h.json<ErrorAnswer>('/api/strategies/trend', {
      method: 'PATCH',
      json: { params: { fast: 50, slow: 20 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('params.fast');
    const wrongType = await h.json<ErrorAnswer>('/api/strategies/trend', {
      method: 'PATCH',
      json: { params: { fast: 'quick' } },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.fields).toHaveProperty('params.fast');
    const unknownField = await h.json<ErrorAnswer>('/api/strategies/trend', {
      method: 'PATCH',
      json: { colour: 'red' },
    });
    expect(unknownField.status).toBe(400);
    const empty = await h.json<ErrorAnswer>('/api/strategies/trend', { method: 'PATCH', json: {} });
    expect(empty.status).toBe(400);
    const badSymbols = await h.json<ErrorAnswer>('/api/strategies/trend', {
      method: 'PATCH',
      json: { symbols: [] },
    });
    expect(badSymbols.body.error.fields).toHaveProperty('symbols');

    const ok = await h.json<StrategySummary>('/api/strategies/trend', {
      method: 'PATCH',
      json: { params: { fast: 7 }, symbols: ['acme', 'GLOBEX'], description: 'faster' },
    });
    expect(ok.status).toBe(200);
    const s = StrategySummary.parse(ok.body);
    // Defaults applied by the module's schema are stored with the change.
    expect(s.params).toEqual({ fast: 7, slow: 30 });
    expect(s.symbols).toEqual(['ACME', 'GLOBEX']);
    expect(s.description).toBe('faster');
    const [event] =
      await h.sql`SELECT payload FROM events WHERE type = 'strategies.changed' ORDER BY id DESC LIMIT 1`;
    expect(event.payload).toEqual({ name: 'trend', change: 'updated' });
    // Its open position's resting exit is due for a look now, not at the next bar.
    const [due] =
      await h.sql`SELECT payload FROM events WHERE type = 'protection.due' ORDER BY id DESC LIMIT 1`;
    expect(due.payload).toEqual({ books: [{ strategy: 'trend', symbol: 'ACME' }] });
  });

  it('pauses and resumes; refuses to enable one whose module does not load', async () => {
    const paused = StrategySummary.parse(
      (await h.json('/api/strategies/trend/disable', { method: 'POST' })).body,
    );
    expect(paused).toMatchObject({ enabled: false, status: 'disabled' });
    const resumed = StrategySummary.parse(
      (await h.json('/api/strategies/trend/enable', { method: 'POST' })).body,
    );
    expect(resumed).toMatchObject({ enabled: true, status: 'running' });
    await h.sql`UPDATE strategies SET enabled = false WHERE name = 'broken'`;
    const broken = await h.json<ErrorAnswer>('/api/strategies/broken/enable', { method: 'POST' });
    expect(broken.status).toBe(422);
    expect(broken.body.error.code).toBe('strategy_unavailable');
  });

  it('runs an enabled strategy now; refuses a disabled one', async () => {
    await seedBars(h.sql, 'GLOBEX', '2025-01-02T09:00:00Z', 60);
    const run = await h.json<RunStrategyResult>('/api/strategies/trend/run', { method: 'POST' });
    expect(run.status).toBe(200);
    const r = RunStrategyResult.parse(run.body);
    expect(r.strategy).toBe('trend');
    const [{ n }] = await h.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM signals WHERE id = ANY(${r.signalIds})`;
    expect(n).toBe(r.signalIds.length);
    const disabled = await h.json<ErrorAnswer>('/api/strategies/idle/run', { method: 'POST' });
    expect(disabled.status).toBe(409);
  });

  it('reloads strategy modules', async () => {
    const r = ReloadResult.parse((await h.json('/api/strategies/reload', { method: 'POST' })).body);
    expect(r.modules).toContain('sma-crossover');
  });
});

describe('creating and deleting strategies', () => {
  const create = (json: unknown) =>
    h.json<ErrorAnswer & StrategySummary>('/api/strategies', { method: 'POST', json });
  const base = {
    name: 'fresh',
    module: 'sma-crossover',
    params: { fast: 4 },
    symbols: ['acme'],
    timeframe: '5Min',
    sizing: { type: 'fixed_notional', notional: '250' },
    exits: { stopLoss: 0.05 },
  };

  it('creates one, disabled by default, with the params its module validated and defaulted', async () => {
    const res = await create(base);
    expect(res.status).toBe(201);
    const s = StrategySummary.parse(res.body);
    expect(s).toMatchObject({
      name: 'fresh',
      module: 'sma-crossover',
      params: { fast: 4, slow: 30 },
      symbols: ['ACME'],
      timeframe: '5Min',
      exchange: null,
      enabled: false,
      status: 'disabled',
      allowShort: false,
      sizing: { type: 'fixed_notional', notional: '250' },
      exits: { stopLoss: 0.05 },
      openPositions: 0,
    });
    const [stored] = await h.sql`SELECT enabled, params, symbols FROM strategies WHERE name = 'fresh'`;
    expect(stored).toEqual({ enabled: false, params: { fast: 4, slow: 30 }, symbols: ['ACME'] });
    const [event] =
      await h.sql`SELECT payload FROM events WHERE type = 'strategies.changed' ORDER BY id DESC LIMIT 1`;
    expect(event.payload).toEqual({ name: 'fresh', change: 'created' });
    const list = StrategyList.parse((await h.json('/api/strategies')).body);
    expect(list.items.map((x) => x.name)).toContain('fresh');
  });

  it('refuses a taken name (and the manual book) with 409, naming `name`', async () => {
    for (const name of ['fresh', 'trend', 'manual']) {
      const dup = await create({ ...base, name });
      expect(dup.status, name).toBe(409);
      expect(dup.body.error.fields, name).toHaveProperty('name');
    }
    // The first one is as it was.
    const [row] = await h.sql`SELECT params FROM strategies WHERE name = 'fresh'`;
    expect(row.params).toEqual({ fast: 4, slow: 30 });
  });

  it('names each bad field; nothing is stored', async () => {
    const cases: [unknown, string, number][] = [
      [{ ...base, name: 'bad-params', params: { fast: 40, slow: 20 } }, 'params.fast', 400],
      [{ ...base, name: 'bad-type', params: { fast: 'quick' } }, 'params.fast', 400],
      [{ ...base, name: 'No Slug' }, 'name', 400],
      [{ ...base, name: undefined }, 'name', 400],
      [{ ...base, name: 'no-symbols', symbols: [] }, 'symbols', 400],
      [{ ...base, name: 'bad-tf', timeframe: '7Min' }, 'timeframe', 400],
      [{ ...base, name: 'bad-sizing', sizing: { type: 'fixed_qty', qty: '-1' } }, 'sizing.qty', 400],
      [{ ...base, name: 'bad-exit', exits: { stopLoss: 2 } }, 'exits.stopLoss', 400],
      [{ ...base, name: 'extra', colour: 'red' }, 'colour', 400],
      [{ ...base, name: 'no-module', module: 'no-such-module' }, 'module', 422],
      [{ ...base, name: 'bad-venue', exchange: 'nowhere' }, 'exchange', 400],
    ];
    for (const [json, field, status] of cases) {
      const res = await create(json);
      expect(res.status, field).toBe(status);
      expect(Object.keys(res.body.error.fields), JSON.stringify(res.body)).toContain(field);
    }
    const [{ n }] = await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM strategies`;
    expect(n).toBe(4);
  });

  it('creates an enabled one only when it can run as saved', async () => {
    const res = await create({ ...base, name: 'live-now', enabled: true });
    expect(res.status).toBe(201);
    expect(StrategySummary.parse(res.body)).toMatchObject({ enabled: true, status: 'running' });
  });

  it('deletes a disabled one without open positions or orders; refuses otherwise with 409', async () => {
    const enabled = await h.json<ErrorAnswer>('/api/strategies/live-now', { method: 'DELETE' });
    expect(enabled.status).toBe(409);
    expect(enabled.body.error.fields.name).toBe('is enabled');

    // `trend` holds 2 ACME: disabled, it is still refused while the position is open.
    await h.json('/api/strategies/trend/disable', { method: 'POST' });
    const holding = await h.json<ErrorAnswer>('/api/strategies/trend', { method: 'DELETE' });
    expect(holding.status).toBe(409);
    expect(holding.body.error.message).toMatch(/open positions in ACME/);

    await seedOrder(h.sql, { strategy: 'fresh', status: 'accepted' });
    const ordering = await h.json<ErrorAnswer>('/api/strategies/fresh', { method: 'DELETE' });
    expect(ordering.status).toBe(409);
    expect(ordering.body.error.fields.name).toBe('has 1 open order');
    await h.sql`UPDATE orders SET status = 'canceled' WHERE strategy = 'fresh'`;

    const gone = await h.json('/api/strategies/fresh', { method: 'DELETE' });
    expect(gone).toEqual({ status: 200, body: { ok: true } });
    expect((await h.json('/api/strategies/fresh')).status).toBe(404);
    expect((await h.json('/api/strategies/fresh', { method: 'DELETE' })).status).toBe(404);
    // Its history stays under its name.
    const [{ n }] = await h.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM orders WHERE strategy = 'fresh'`;
    expect(n).toBe(1);
    const [event] =
      await h.sql`SELECT payload FROM events WHERE type = 'strategies.changed' ORDER BY id DESC LIMIT 1`;
    expect(event.payload).toEqual({ name: 'fresh', change: 'deleted' });
  });
});
