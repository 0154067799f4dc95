import { upsertStrategy } from '@weaver/shared/db';
import { DemoMarket, ensureDemo } from '@weaver/shared/demo';
import { getExchange, setExchange } from '@weaver/shared/exchanges';
import { invokeHandler } from '@weaver/shared/runtime';
import type { EventEnvelope } from '@weaver/shared/schemas';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clearClock,
  count,
  eventually,
  expectRejected,
  HUGE_BODY,
  MIN,
  setClock,
  useBus,
} from '../../shared/test/pipeline/helpers.ts';
import handler from './handler.ts';

describe.skipIf(!natsUrl())('fetch-bars function', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  const events: EventEnvelope[] = [];
  const start = Date.UTC(2025, 0, 6, 10, 0);

  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    nats.bus.subscribe('bars.fetched', (e) => {
      events.push(e);
    });
    await ensureDemo(t.sql, { now: start, backfillBars: 30 });
  });
  afterAll(async () => {
    clearClock();
    await nats?.drop();
  });

  it('fetches the bars completed since the newest stored one, writes them once, publishes bars.fetched', async () => {
    setClock(start + 3 * MIN + 500);
    const res = await invokeHandler(handler, { body: '', headers: { 'x-correlation-id': 'cron-a' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      groups: [
        {
          exchange: 'sim',
          timeframe: '1Min',
          symbols: ['ACME', 'GLOBEX', 'INITECH'],
          bars: 9,
          latest: new Date(start + 2 * MIN).toISOString(),
        },
      ],
    });
    expect(await count(t.sql, 'bars')).toBe(99);
    const [stored] = await t.sql<{ open: number; close: number }[]>`
      SELECT open, close FROM bars WHERE symbol = 'GLOBEX' AND ts = ${new Date(start + MIN)}`;
    const expected = new DemoMarket().barAt('GLOBEX', '1Min', start + MIN);
    expect(stored).toEqual({ open: expected.open, close: expected.close });
    const event = await eventually(async () => events.find((e) => e.correlationId === 'cron-a'));
    expect(event.payload).toMatchObject({ exchange: 'sim', timeframe: '1Min', count: 9 });

    // The same minute again: nothing new, nothing published.
    const again = await invokeHandler(handler, { body: {}, headers: { 'x-correlation-id': 'cron-b' } });
    expect(again.body).toMatchObject({ groups: [{ bars: 0, latest: null }] });
    expect(await count(t.sql, 'bars')).toBe(99);
    expect(await count(t.sql, 'events', `correlation_id = 'cron-b'`)).toBe(0);
    expect(await count(t.sql, 'function_runs', `function_name = 'fetch-bars' AND outcome = 'ok'`)).toBe(2);
  });

  it('fetches a named symbol on a named timeframe even when no strategy trades it', async () => {
    await upsertStrategy(t.sql, {
      name: 'hourly',
      module: 'sma-crossover',
      params: {},
      enabled: false,
      symbols: ['INITECH'],
      timeframe: '1Hour',
      exchange: 'sim',
      sizing: { type: 'fixed_qty', qty: '1' },
    });
    const res = await invokeHandler(handler, { body: { symbols: ['INITECH'], timeframe: '1Hour' } });
    expect(res.status).toBe(200);
    const [group] = (res.body as { groups: { bars: number; timeframe: string }[] }).groups;
    expect(group).toMatchObject({ timeframe: '1Hour', bars: 500 });
    expect(await count(t.sql, 'bars', `timeframe = '1Hour'`)).toBe(500);
  });

  it('downloads as fetch-history does: a bad bar from the venue is not stored, the forming bar is left, coverage is recorded', async () => {
    // A venue that gets one bar wrong (high below low): the sim's bars, the oldest one corrupted.
    const sim = await getExchange('sim');
    const quirky = Object.create(sim) as typeof sim;
    const now = start + 42 * MIN + 500;
    const step = 5 * MIN;
    const oldest = Math.floor(now / step) * step - 500 * step;
    quirky.getBars = async function* (req) {
      for await (const page of sim.getBars(req))
        yield page.map((b) => (Date.parse(b.time) === oldest ? { ...b, high: b.low - 1 } : b));
    };
    setExchange('quirky', quirky);
    setClock(now);
    const res = await invokeHandler(handler, {
      body: { exchange: 'quirky', symbols: ['ACME'], timeframe: '5Min' },
    });
    expect(res.status).toBe(200);
    const newestComplete = Math.floor(now / step) * step - step; // the 5-minute bar at +40 is still forming
    expect((res.body as { groups: unknown[] }).groups).toEqual([
      {
        exchange: 'quirky',
        timeframe: '5Min',
        symbols: ['ACME'],
        bars: 499,
        latest: new Date(newestComplete).toISOString(),
        rejected: 1,
      },
    ]);
    const [stored] = await t.sql<{ n: number; first: Date; last: Date }[]>`
      SELECT count(*)::int AS n, min(ts) AS first, max(ts) AS last FROM bars WHERE symbol = 'ACME' AND timeframe = '5Min'`;
    expect(stored).toEqual({ n: 499, first: new Date(oldest + step), last: new Date(newestComplete) });
    const coverage = await t.sql<{ start_ts: Date; end_ts: Date }[]>`
      SELECT start_ts, end_ts FROM bar_coverage WHERE exchange = 'quirky' AND symbol = 'ACME' AND timeframe = '5Min'`;
    // Covered from the first bar asked for through the settled past: nothing still forming counts.
    expect(coverage).toHaveLength(1);
    expect(coverage[0].start_ts).toEqual(new Date(oldest));
    expect(coverage[0].end_ts.getTime()).toBeGreaterThanOrEqual(newestComplete);
    expect(coverage[0].end_ts.getTime()).toBeLessThan(newestComplete + step);
  });

  it('answers 4xx naming the field for bad input, and writes nothing', async () => {
    await expectRejected(t.sql, handler, { symbols: 'ACME' }, 400, 'symbols');
    await expectRejected(t.sql, handler, { timeframe: '2Min' }, 400, 'timeframe');
    await expectRejected(t.sql, handler, { symbols: ['NOPE'] }, 400, 'symbols.0');
    await expectRejected(t.sql, handler, { symbols: ['not a ticker!'] }, 400, 'symbols.0');
    await expectRejected(t.sql, handler, { exchange: 'Bad Exchange' }, 400, 'exchange');
    await expectRejected(t.sql, handler, { strategies: [] }, 400, 'strategies');
    const unknown = await expectRejected(t.sql, handler, { symbol: 'ACME' }, 400, 'symbol');
    expect(unknown.error.message).toMatch(/symbol/);
    await expectRejected(t.sql, handler, '{"symbols": [', 400, 'body');
    await expectRejected(t.sql, handler, HUGE_BODY, 413, 'body');
  });
});
