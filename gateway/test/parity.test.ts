/**
 * GET /api/parity on a real database: stored bars, a configured strategy, and live signals, orders and
 * fills seeded to agree with the replay in some places and differ in others; the report must match what
 * agrees and name the cause of each difference.
 */
import { upsertStrategy } from '@weaver/shared/db';
import { type ParityDifference, ParityReport } from '@weaver/shared/schemas';
import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from './harness.ts';

const h = useGateway();
type ErrorAnswer = { error: { code: string; message: string; fields: Record<string, string> } };

const START = Date.parse('2025-01-02T00:00:00Z');
const MIN = 60_000;
const BARS = 300;
/** A slow wave, so the 3/8 SMA crossover trades every few dozen minutes. */
const close = (i: number) => Math.round((100 + 5 * Math.sin(i / 9)) * 100) / 100;
const open = (i: number) => (i === 0 ? close(0) : close(i - 1));
const iso = (ms: number) => new Date(ms).toISOString();
const FROM = iso(START + 60 * MIN);
const TO = iso(START + 240 * MIN);
const period = `from=${FROM}&to=${TO}`;

async function report(query: string): Promise<ParityReport> {
  const { status, body } = await h.json(`/api/parity?${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return ParityReport.parse(body);
}

async function liveSignal(barTime: string, side: string, price: number): Promise<number> {
  const [s] = await h.sql<{ id: number }[]>`
    INSERT INTO signals (strategy, symbol, timeframe, bar_time, side, price, status, created_at)
    VALUES ('wave', 'WAVE', '1Min', ${barTime}, ${side}, ${price}, 'ordered', ${barTime}::timestamptz + interval '1 minute')
    RETURNING id`;
  return s.id;
}

async function liveOrder(
  signalId: number,
  side: string,
  o: { status: string; fill?: { qty: number; price: number; at: string }; error?: string },
): Promise<void> {
  const [order] = await h.sql<{ id: number }[]>`
    INSERT INTO orders (client_order_id, exchange, strategy, signal_id, symbol, side, type, time_in_force, qty, status, filled_qty, error_message)
    VALUES (${`parity-${signalId}`}, 'sim', 'wave', ${signalId}, 'WAVE', ${side}, 'market', 'day', 1, ${o.status},
            ${o.fill?.qty ?? 0}, ${o.error ?? null})
    RETURNING id`;
  if (o.fill) {
    await h.sql`
      INSERT INTO fills (order_id, exchange_fill_id, symbol, side, qty, price, filled_at)
      VALUES (${order.id}, ${`f-${order.id}`}, 'WAVE', ${side}, ${o.fill.qty}, ${o.fill.price}, ${o.fill.at})`;
  }
}

beforeAll(async () => {
  await h.sql`SELECT 1`;
  await upsertStrategy(h.sql, {
    name: 'wave',
    module: 'sma-crossover',
    params: { fast: 3, slow: 8 },
    enabled: true,
    symbols: ['WAVE'],
    timeframe: '1Min',
    exchange: null,
    sizing: { type: 'fixed_qty', qty: '1' },
  });
  // Configured long before the bars, so no difference is put down to a strategy that did not exist yet.
  await h.sql`UPDATE strategies SET created_at = '2024-01-01' WHERE name = 'wave'`;
  const i = Array.from({ length: BARS }, (_, k) => k);
  await h.sql`
    INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume)
    SELECT 'WAVE', '1Min', t, o, greatest(o, c) + 0.2, least(o, c) - 0.2, c, 100
    FROM unnest(${i.map((k) => iso(START + k * MIN))}::timestamptz[], ${i.map(open)}::float8[], ${i.map(close)}::float8[]) AS x(t, o, c)`;
});

describe('GET /api/parity', () => {
  let decisions: ParityDifference[];
  let simFills: ParityDifference[];

  it('with nothing traded live, lists every simulated signal and fill as missing live, with the cause', async () => {
    const r = await report(period);
    expect(r).toMatchObject({ from: FROM, to: TO });
    expect(r.strategies).toHaveLength(1);
    const s = r.strategies[0];
    expect(s).toMatchObject({ strategy: 'wave', module: 'sma-crossover', error: null, timeframe: '1Min' });
    expect(s.signals.live).toBe(0);
    expect(s.signals.backtest).toBeGreaterThanOrEqual(6);
    decisions = s.differences.filter((d) => d.kind === 'signal');
    simFills = s.differences.filter((d) => d.kind === 'fill');
    expect(decisions).toHaveLength(s.signals.backtest);
    for (const d of decisions) {
      expect(d.live).toBeNull();
      expect(d.cause).toMatch(/no live signal: the bar was missing when the strategy ran/);
      expect(d.barTime >= FROM && d.barTime <= TO).toBe(true);
    }
    expect(simFills.length).toBeGreaterThanOrEqual(3);
    for (const f of simFills)
      expect(f.cause).toBe('no live signal for this decision (see the signal difference)');
  });

  it('matches what live did as simulated and names the cause of each difference', async () => {
    // The simulated fill of each buy decision (long-only: sells when flat fill nothing).
    const fillOf = (d: ParityDifference) => simFills.find((f) => f.barTime === d.barTime);
    const traded = decisions.filter((d) => fillOf(d));
    expect(traded.length).toBeGreaterThanOrEqual(4);
    const [d0, d1, d2, d3] = traded;
    const sideOf = (d: ParityDifference) => (d.backtest as { side: string }).side;
    const priceOf = (d: ParityDifference) => (d.backtest as { price: number }).price;
    const sim = (d: ParityDifference) => fillOf(d)?.backtest as { qty: number; price: number; time: string };

    // d0: the same signal, filled exactly as simulated.
    const s0 = await liveSignal(d0.barTime, sideOf(d0), priceOf(d0));
    await liveOrder(s0, sideOf(d0), { status: 'filled', fill: { ...sim(d0), at: sim(d0).time } });
    // d1: the same signal, filled 1% worse.
    const s1 = await liveSignal(d1.barTime, sideOf(d1), priceOf(d1));
    const worse = Math.round(sim(d1).price * 1.01 * 100) / 100;
    await liveOrder(s1, sideOf(d1), {
      status: 'filled',
      fill: { qty: sim(d1).qty, price: worse, at: sim(d1).time },
    });
    // d2: the same signal, half filled at the simulated price.
    const s2 = await liveSignal(d2.barTime, sideOf(d2), priceOf(d2));
    await liveOrder(s2, sideOf(d2), {
      status: 'partially_filled',
      fill: { qty: sim(d2).qty / 2, price: sim(d2).price, at: sim(d2).time },
    });
    // d3: live saw another close (the bar was revised since) and decided the other way; the venue
    // refused its order.
    const other = sideOf(d3) === 'buy' ? 'sell' : 'buy';
    const s3 = await liveSignal(d3.barTime, other, priceOf(d3) + 1.5);
    await liveOrder(s3, other, { status: 'rejected', error: 'insufficient buying power' });
    // A live signal on a bar where the replay decided nothing, at the stored close.
    const quiet = Array.from({ length: BARS }, (_, k) => START + k * MIN).find(
      (t) => t > Date.parse(FROM) + 5 * MIN && !decisions.some((d) => Date.parse(d.barTime) === t),
    ) as number;
    await liveSignal(iso(quiet), 'buy', close((quiet - START) / MIN));

    const s = (await report(period)).strategies[0];
    expect(s.signals).toEqual({ live: 5, backtest: decisions.length, matched: 3 });
    // Fills: d0 matches; d1 (slippage) and d2 (partial) differ; d3 has none.
    expect(s.fills).toMatchObject({ live: 3, matched: 1 });
    const at = (kind: string, t: string) => s.differences.filter((d) => d.kind === kind && d.barTime === t);
    expect(at('signal', d0.barTime)).toEqual([]);
    expect(at('fill', d0.barTime)).toEqual([]);
    expect(at('signal', d1.barTime)).toEqual([]);
    expect(at('fill', d1.barTime)[0].cause).toMatch(
      new RegExp(
        `^slippage against the simulated price: ${worse} live vs ${sim(d1).price} simulated \\(\\d+(\\.\\d+)? bps\\)$`,
      ),
    );
    expect(at('fill', d2.barTime)[0].cause).toBe(`a partial fill: ${sim(d2).qty / 2} of 1`);
    expect(at('signal', d3.barTime)[0]).toMatchObject({
      live: { side: other, price: priceOf(d3) + 1.5, status: 'ordered' },
      backtest: { side: sideOf(d3), price: priceOf(d3) },
      cause: `the bar was revised after the signal: live saw close ${priceOf(d3) + 1.5}, stored close is ${priceOf(d3)}`,
    });
    expect(at('fill', d3.barTime)[0]).toMatchObject({
      live: null,
      cause: 'the order was not filled: rejected: insufficient buying power',
    });
    expect(at('signal', iso(quiet))[0]).toMatchObject({
      backtest: null,
      cause: expect.stringMatching(/^the live strategy saw a different history/),
    });
  });

  it('takes a date as the whole day, filters by strategy, and names the bad field of a bad query', async () => {
    const day = await report('from=2025-01-02&to=2025-01-02&strategy=wave');
    expect(day.to).toBe('2025-01-02T23:59:59.999Z');
    expect(day.strategies.map((s) => s.strategy)).toEqual(['wave']);

    for (const [query, field, status] of [
      ['to=2025-01-02', 'from', 400],
      ['from=2025-01-02', 'to', 400],
      ['from=yesterday&to=2025-01-02', 'from', 400],
      ['from=2025-01-03&to=2025-01-02', 'from', 400],
      ['from=2025-01-02&to=2025-01-02&strategy=Not%20A%20Slug', 'strategy.0', 400],
      ['from=2025-01-02&to=2025-01-02&strategy=wave,ghost', 'strategy', 404],
    ] as const) {
      const bad = await h.json<ErrorAnswer>(`/api/parity?${query}`);
      expect(bad.status, query).toBe(status);
      expect(Object.keys(bad.body.error.fields), query).toContain(field);
    }
    expect((await h.json('/api/parity?from=2025-01-02&to=2025-01-02', { auth: false })).status).toBe(401);
  });
});
