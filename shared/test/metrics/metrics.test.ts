import { describe, expect, it } from 'vitest';
import {
  collect,
  countExchangeError,
  countExchangeRetry,
  metricsResponse,
  metricsText,
  render,
  seriesNames,
  WEAVER_METRICS,
} from '../../src/metrics/index.ts';
import { createTestDatabase, useTestDatabase } from '../../src/testing/index.ts';

/** A strict reader of the text format: every line is a comment or `name{labels} value`. */
function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  const typed = new Set<string>();
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/;
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      expect(['counter', 'gauge', 'histogram']).toContain(type);
      expect(typed.has(name), `TYPE twice for ${name}`).toBe(false);
      typed.add(name);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = sample.exec(line);
    expect(m, `malformed line: ${line}`).not.toBeNull();
    const base = m![1].replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(m![1]) || typed.has(base), `sample before TYPE: ${line}`).toBe(true);
    const value = m![3] === '+Inf' ? Infinity : Number(m![3]);
    expect(Number.isNaN(value) && m![3] !== 'NaN').toBe(false);
    series.set(`${m![1]}${m![2] ?? ''}`, value);
  }
  return series;
}

describe('exposition', () => {
  it('escapes label values and writes histograms cumulatively with +Inf, _sum and _count', () => {
    const text = render([
      {
        name: 'x_total',
        help: 'a "help"\nline',
        type: 'counter',
        labelNames: ['a'],
        samples: [{ labels: { a: 'q"uo\\te\nnl' }, value: 3 }],
      },
      {
        name: 'h_seconds',
        help: 'h',
        type: 'histogram',
        labelNames: [],
        buckets: [0.1, 1],
        samples: [{ labels: {}, buckets: [1, 3], sum: 2.5, count: 4 }],
      },
    ]);
    expect(text).toContain('# HELP x_total a "help"\\nline');
    expect(text).toContain('x_total{a="q\\"uo\\\\te\\nnl"} 3');
    expect(text).toContain(
      'h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="1"} 3\nh_seconds_bucket{le="+Inf"} 4',
    );
    expect(text).toContain('h_seconds_sum 2.5\nh_seconds_count 4');
    parseExposition(text);
  });

  it('refuses a sample whose labels differ from its definition', () => {
    expect(() =>
      render([
        {
          name: 'y',
          help: 'y',
          type: 'gauge',
          labelNames: ['a'],
          samples: [{ labels: { b: '1' }, value: 1 }],
        },
      ]),
    ).toThrow(/labels b do not match a/);
  });

  it('names every series of the catalogue, with histogram suffixes', () => {
    expect(seriesNames(WEAVER_METRICS.fillLatency)).toEqual([
      'weaver_fill_latency_seconds_bucket',
      'weaver_fill_latency_seconds_sum',
      'weaver_fill_latency_seconds_count',
    ]);
    for (const d of Object.values(WEAVER_METRICS)) expect(d.name).toMatch(/^weaver_[a-z_]+$/);
  });
});

describe('metrics from the database', () => {
  const tdb = useTestDatabase();

  async function seed(): Promise<void> {
    const sql = tdb.sql;
    await sql`INSERT INTO strategies (name, module, symbols, timeframe, enabled)
              VALUES ('sma', 'builtin:sma-crossover', '{AAPL,MSFT}', '1Min', true)`;
    await sql`INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume) VALUES
      ('AAPL', '1Min', '2026-01-02T15:00:00Z', 100, 101, 99, 100, 10),
      ('AAPL', '1Min', '2026-01-02T15:01:00Z', 100, 111, 99, 110, 10),
      ('AAPL', '1Day', '2026-01-03T00:00:00Z', 100, 200, 99, 150, 10)`;
    await sql`INSERT INTO signals (strategy, symbol, timeframe, bar_time, side, price, status) VALUES
      ('sma', 'AAPL', '1Min', '2026-01-02T15:00:00Z', 'buy', 100, 'ordered'),
      ('sma', 'AAPL', '1Min', '2026-01-02T15:01:00Z', 'sell', 110, 'ordered'),
      ('sma', 'MSFT', '1Min', '2026-01-02T15:00:00Z', 'buy', 50, 'rejected'),
      ('sma', 'MSFT', '1Min', '2026-01-02T15:01:00Z', 'buy', 51, 'new')`;
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms);
    await sql`INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status,
                submitted_at, exchange_order_id, filled_qty, error_code) VALUES
      ('c1', 'sim', 'sma', 'AAPL', 'buy', 'market', 'day', 10, 'filled', ${at(-10_000)}, 'x1', 10, null),
      ('c2', 'sim', 'sma', 'AAPL', 'buy', 'market', 'day', 5, 'filled', ${at(-10_000)}, 'x2', 5, null),
      ('c3', 'sim', 'sma', 'AAPL', 'sell', 'limit', 'gtc', 2, 'new', ${at(-1000)}, 'x3', 0, null),
      ('c4', 'sim', 'sma', 'MSFT', 'buy', 'market', 'day', 1, 'rejected', ${at(-1000)}, 'x4', 0, 'insufficient'),
      ('c5', 'sim', 'sma', 'MSFT', 'buy', 'market', 'day', 1, 'failed', null, null, 0, '403')`;
    const orders = await sql<
      { id: number; client_order_id: string }[]
    >`SELECT id, client_order_id FROM orders`;
    const id = (c: string) => orders.find((o) => o.client_order_id === c)!.id;
    // c1 filled 0.2 s after submission, c2 after 7 s; the c2 fill has no trade yet (sweep backlog).
    await sql`INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, filled_at, created_at) VALUES
      (${id('c1')}, 'f1', 'AAPL', 'buy', 10, 100, ${at(-9800)}, ${at(-9800)}),
      (${id('c2')}, 'f2', 'AAPL', 'buy', 5, 101, ${at(-3000)}, ${at(-3000)})`;
    const [f1] = await sql<{ id: number }[]>`SELECT id FROM fills WHERE exchange_fill_id = 'f1'`;
    await sql`INSERT INTO trades (fill_id, order_id, strategy, symbol, side, qty, price, realized_pnl, position_after,
                executed_at) VALUES (${f1.id}, ${id('c1')}, 'sma', 'AAPL', 'buy', 10, 100, 0, 10, ${at(-9800)})`;
    await sql`INSERT INTO positions (strategy, symbol, qty, avg_price, realized_pnl) VALUES
      ('sma', 'AAPL', 10, 100, 12.5), ('manual', 'TSLA', 0, 0, -3)`;
    await sql`INSERT INTO account_snapshots (exchange, cash, equity, buying_power, day_pnl, at) VALUES
      ('sim', 1000, 2000, 4000, -5, ${at(-120_000)}),
      ('sim', 900, 2100, 3800, 15.25, ${at(-60_000)})`;
    await sql`INSERT INTO backtests (status, config, started_at, finished_at) VALUES
      ('completed', '{}', ${at(-70_000)}, ${at(-10_000)}),
      ('completed', '{}', ${at(-3000)}, ${at(-1000)}),
      ('failed', '{}', ${at(-2000)}, ${at(-1500)}),
      ('running', '{}', ${at(-1000)}, null)`;
    await sql`INSERT INTO function_runs (function_name, started_at, finished_at, outcome, status_code) VALUES
      ('place-order', ${at(-1000)}, ${at(-980)}, 'ok', 200),
      ('place-order', ${at(-1000)}, ${at(-700)}, 'rejected', 400),
      ('place-order', ${at(-1000)}, ${at(-999)}, 'error', 500),
      ('fetch-bars', ${at(-1000)}, null, 'running', null)`;
    await sql`INSERT INTO events (event_id, type, correlation_id, occurred_at, payload) VALUES
      ('e1', 'bars.fetched', 'c', now(), '{}'), ('e2', 'bars.fetched', 'c', now(), '{}'),
      ('e3', 'risk.halted', 'c', now(), '{}')`;
    await sql`INSERT INTO trading_halts (scope, reason, until) VALUES
      ('global', 'daily loss limit', null), ('sma', 'cool-down', now() - interval '1 minute')`;
    await sql`INSERT INTO notifications (dedupe_key, channel, kind, title, status) VALUES
      ('k1', 'telegram', 'fill', 't', 'sent'), ('k1', 'discord', 'fill', 't', 'failed')`;
  }

  it('derives every series from the rows, exactly', async () => {
    await seed();
    // Concurrent increments from several processes' calls add up; the default pool is the process's db().
    await Promise.all(Array.from({ length: 4 }, () => countExchangeRetry('alpaca', 'submitOrder', tdb.sql)));
    await countExchangeRetry('alpaca', 'submitOrder');
    await countExchangeError('alpaca', 'submitOrder', '429');
    const s = parseExposition(await metricsText(tdb.sql));
    const get = (k: string) => {
      expect(s.has(k), `missing ${k}`).toBe(true);
      return s.get(k);
    };
    expect(get('weaver_orders_submitted_total{strategy="sma",symbol="AAPL",side="buy"}')).toBe(2);
    expect(get('weaver_orders_submitted_total{strategy="sma",symbol="MSFT",side="buy"}')).toBe(1);
    expect(get('weaver_orders_filled_total{strategy="sma",symbol="AAPL",side="buy"}')).toBe(2);
    expect(get('weaver_orders_rejected_total{strategy="sma",symbol="MSFT",side="buy"}')).toBe(2);
    expect(get('weaver_orders_open{strategy="sma",symbol="AAPL"}')).toBe(1);
    expect(get('weaver_signals_total{strategy="sma",symbol="MSFT",side="buy",status="rejected"}')).toBe(1);
    expect(get('weaver_fills_total{strategy="sma",symbol="AAPL",side="buy"}')).toBe(2);
    expect(get('weaver_fill_latency_seconds_bucket{exchange="sim",le="0.25"}')).toBe(1);
    expect(get('weaver_fill_latency_seconds_bucket{exchange="sim",le="5"}')).toBe(1);
    expect(get('weaver_fill_latency_seconds_bucket{exchange="sim",le="10"}')).toBe(2);
    expect(get('weaver_fill_latency_seconds_count{exchange="sim"}')).toBe(2);
    expect(get('weaver_fill_latency_seconds_sum{exchange="sim"}')).toBeCloseTo(7.2, 3);
    expect(get('weaver_trades_total{strategy="sma",symbol="AAPL"}')).toBe(1);
    expect(get('weaver_realized_pnl{strategy="sma",symbol="AAPL"}')).toBe(12.5);
    expect(get('weaver_realized_pnl{strategy="manual",symbol="TSLA"}')).toBe(-3);
    // 10 shares bought at 100, marked at the newest 1Min close (110), not the 1Day bar's 150.
    expect(get('weaver_unrealized_pnl{strategy="sma",symbol="AAPL"}')).toBe(100);
    expect(get('weaver_position_qty{strategy="sma",symbol="AAPL"}')).toBe(10);
    expect(get('weaver_equity{exchange="sim",currency="USD"}')).toBe(2100);
    expect(get('weaver_cash{exchange="sim",currency="USD"}')).toBe(900);
    expect(get('weaver_day_pnl{exchange="sim",currency="USD"}')).toBe(15.25);
    expect(get('weaver_account_snapshot_age_seconds{exchange="sim"}')).toBeGreaterThanOrEqual(59);
    expect(get('weaver_backtests_total{status="completed"}')).toBe(2);
    expect(get('weaver_backtests_total{status="running"}')).toBe(1);
    expect(get('weaver_backtest_duration_seconds_bucket{status="completed",le="2.5"}')).toBe(1);
    expect(get('weaver_backtest_duration_seconds_bucket{status="completed",le="60"}')).toBe(2);
    expect(get('weaver_backtest_duration_seconds_count{status="failed"}')).toBe(1);
    expect(get('weaver_exchange_retries_total{exchange="alpaca",operation="submitOrder"}')).toBe(5);
    expect(get('weaver_exchange_errors_total{exchange="alpaca",operation="submitOrder",code="429"}')).toBe(1);
    expect(get('weaver_sweep_backlog{kind="signals_without_orders"}')).toBe(1);
    expect(get('weaver_sweep_backlog{kind="orders_not_final"}')).toBe(1);
    expect(get('weaver_sweep_backlog{kind="fills_without_trades"}')).toBe(1);
    expect(get('weaver_trading_halted{scope="global"}')).toBe(1);
    expect(s.has('weaver_trading_halted{scope="sma"}')).toBe(false);
    expect(get('weaver_function_runs_total{function="place-order",outcome="error"}')).toBe(1);
    expect(get('weaver_function_runs_total{function="fetch-bars",outcome="running"}')).toBe(1);
    expect(get('weaver_function_run_duration_seconds_bucket{function="place-order",le="0.025"}')).toBe(2);
    expect(get('weaver_function_run_duration_seconds_count{function="place-order"}')).toBe(3);
    expect(get('weaver_events_total{type="bars.fetched"}')).toBe(2);
    expect(get('weaver_notifications_total{channel="discord",kind="fill",status="failed"}')).toBe(1);
    for (const c of ['orders', 'fills', 'positions', 'account', 'functions']) {
      expect(get(`weaver_metrics_collector_up{collector="${c}"}`)).toBe(1);
    }
  });

  it('a counter never fails the call it counts, even without a database', async () => {
    const { connect } = await import('../../src/db/index.ts');
    const nowhere = connect('postgres://weaver@127.0.0.1:1/none', { max: 1 });
    try {
      await expect(countExchangeRetry('alpaca', 'bars', nowhere)).resolves.toBeUndefined();
    } finally {
      await nowhere.end({ timeout: 1 });
    }
  });

  it('answers as a Prometheus scrape target (the gateway checks the token first)', async () => {
    const res = await metricsResponse(tdb.sql);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(parseExposition(await res.text()).get('weaver_metrics_collector_up{collector="orders"}')).toBe(1);
  });

  it('keeps the other series when one collector fails', async () => {
    const other = await createTestDatabase();
    try {
      await other.sql`DROP TABLE backtest_trades, backtest_series, backtests`;
      const families = await collect(other.sql);
      const up = families.find((f) => f.name === 'weaver_metrics_collector_up')!;
      const state = Object.fromEntries(
        up.samples.map((s) => [s.labels.collector, 'value' in s ? s.value : -1]),
      );
      expect(state.backtests).toBe(0);
      expect(state.orders).toBe(1);
      expect(families.some((f) => f.name === 'weaver_orders_submitted_total')).toBe(true);
      expect(families.some((f) => f.name === 'weaver_backtests_total')).toBe(false);
    } finally {
      await other.drop();
    }
  });
});
