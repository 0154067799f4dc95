/**
 * History downloads against the fake Alpaca (real SDK over HTTP) into the real Postgres: pagination,
 * de-duplication, resume after an interrupted download, the incremental path fetch-bars uses, the
 * venue's rate limit, and gap reports against a calendar with a holiday.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlpacaExchange } from '../../src/exchanges/alpaca/index.ts';
import {
  coveredRanges,
  type DownloadProgress,
  downloadHistory,
  downloadRecent,
  findGaps,
} from '../../src/market-data/index.ts';
import { FakeAlpaca } from '../../src/testing/fake-alpaca/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { alpacaFor } from '../exchanges/alpaca-helpers.ts';

const db = useTestDatabase();
let fake: FakeAlpaca;
let alpaca: AlpacaExchange;

beforeAll(async () => {
  // the venue's "now": Monday 2024-01-22, 15:00 New York
  fake = await FakeAlpaca.start({ now: Date.parse('2024-01-22T20:00:00Z') });
  alpaca = await alpacaFor(fake);
});
afterAll(async () => {
  await fake.close();
});

const count = async (symbol: string, timeframe: string): Promise<{ n: number; distinct: number }> => {
  const [r] = await db.sql<{ n: number; distinct: number }[]>`
    SELECT count(*)::int AS n, count(DISTINCT ts)::int AS distinct FROM bars WHERE symbol = ${symbol} AND timeframe = ${timeframe}`;
  return r;
};

const base = () => ({ sql: db.sql, exchange: 'alpaca', adapter: alpaca, now: fake.now });

describe('downloadHistory', () => {
  it('pages a range into Postgres, reports progress, and records the coverage', async () => {
    const progress: DownloadProgress[] = [];
    const before = fake.requestsTo('GET /v2/stocks/bars').length;
    const r = await downloadHistory({
      ...base(),
      symbols: ['AAPL', 'MSFT'],
      timeframe: '1Min',
      from: '2024-01-08',
      to: '2024-01-19T23:59:59Z',
      pageSize: 500,
      onProgress: (p) => progress.push(p),
    });
    // 9 sessions of 390 minutes: 8-12 and 16-19 January (15th: Martin Luther King Jr. Day)
    expect(r.symbols.map((s) => [s.symbol, s.written, s.rejected, s.error ?? null])).toEqual([
      ['AAPL', 9 * 390, 0, null],
      ['MSFT', 9 * 390, 0, null],
    ]);
    expect(r.symbols[0].pages).toBe(Math.ceil((9 * 390) / 500));
    expect(fake.requestsTo('GET /v2/stocks/bars').length - before).toBe(2 * Math.ceil((9 * 390) / 500));
    expect(await count('AAPL', '1Min')).toEqual({ n: 9 * 390, distinct: 9 * 390 });
    expect(r.symbols[0].through).toBe('2024-01-19T20:59:00.000Z');
    const aapl = progress.filter((p) => p.symbol === 'AAPL');
    expect(aapl[0].phase).toBe('start');
    expect(aapl.at(-1)).toMatchObject({ phase: 'done', fraction: 1, written: 9 * 390 });
    const fractions = aapl.map((p) => p.fraction);
    expect(fractions.every((f, k) => k === 0 || f >= fractions[k - 1])).toBe(true);
    expect(await coveredRanges(db.sql, { exchange: 'alpaca', symbol: 'AAPL', timeframe: '1Min' })).toEqual([
      [Date.parse('2024-01-08T00:00:00Z'), Date.parse('2024-01-19T23:59:59Z')],
    ]);
  });

  it('fetches nothing again for a covered range, and only the new part of a longer one', async () => {
    const before = fake.requestsTo('GET /v2/stocks/bars').length;
    const again = await downloadHistory({
      ...base(),
      symbols: ['AAPL'],
      timeframe: '1Min',
      from: '2024-01-08',
      to: '2024-01-19T23:59:59Z',
    });
    expect(again.symbols[0]).toMatchObject({ upToDate: true, written: 0, pages: 0 });
    expect(fake.requestsTo('GET /v2/stocks/bars').length).toBe(before);
    const longer = await downloadHistory({
      ...base(),
      symbols: ['AAPL'],
      timeframe: '1Min',
      from: '2024-01-08',
      to: '2024-01-20',
    });
    // 2024-01-20 is a Saturday: the venue has nothing, and says so in one request
    expect(longer.symbols[0]).toMatchObject({
      written: 0,
      resumedFrom: '2024-01-19T23:59:59.001Z',
      pages: 0,
    });
    const earlier = await downloadHistory({
      ...base(),
      symbols: ['AAPL'],
      timeframe: '1Min',
      from: '2024-01-05',
      to: '2024-01-20',
    });
    // only Friday the 5th was missing
    expect(earlier.symbols[0].written).toBe(390);
    expect(await count('AAPL', '1Min')).toEqual({ n: 10 * 390, distinct: 10 * 390 });
  });

  it('resumes an interrupted download where it stopped, without duplicates', async () => {
    const flaky = await alpacaFor(fake, { retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 5 } });
    // the venue fails for good after three pages
    fake.inject({ route: 'GET /v2/stocks/bars', mode: 'status', status: 500, times: 1_000, after: 3 });
    const first = await downloadHistory({
      ...base(),
      adapter: flaky,
      symbols: ['SPY'],
      timeframe: '5Min',
      from: '2024-01-02',
      to: '2024-01-19T23:59:59Z',
      pageSize: 100,
    });
    fake.clearFaults();
    expect(first.symbols[0].error).toMatch(/HTTP 500/);
    expect(first.symbols[0].written).toBe(300);
    const stopped = first.symbols[0].through as string;
    expect(await count('SPY', '5Min')).toEqual({ n: 300, distinct: 300 });

    const before = fake.requestsTo('GET /v2/stocks/bars').length;
    const second = await downloadHistory({
      ...base(),
      symbols: ['SPY'],
      timeframe: '5Min',
      from: '2024-01-02',
      to: '2024-01-19T23:59:59Z',
      pageSize: 100,
    });
    // 13 sessions from 2 to 19 January of 78 five-minute bars
    const total = 13 * 78;
    expect(second.symbols[0]).toMatchObject({
      written: total - 300,
      resumedFrom: new Date(Date.parse(stopped) + 1).toISOString(),
    });
    const requests = fake.requestsTo('GET /v2/stocks/bars').slice(before);
    expect(Date.parse(requests[0].query.start)).toBe(Date.parse(stopped) + 1);
    expect(requests.length).toBe(Math.ceil((total - 300) / 100));
    expect(await count('SPY', '5Min')).toEqual({ n: total, distinct: total });
  });

  it('keeps to the venue rate limit (the SDK token bucket)', async () => {
    // a burst of 4, then 4 requests a second
    const paced = await alpacaFor(fake, {
      rateLimit: { maxRequests: 4, intervalMs: 1000 },
      timeoutMs: 10_000,
    });
    const t0 = Date.now();
    const r = await downloadHistory({
      ...base(),
      adapter: paced,
      symbols: ['BRK.B'],
      timeframe: '15Min',
      from: '2024-01-02',
      to: '2024-01-12T23:59:59Z',
      pageSize: 20,
    });
    // 9 sessions × 26 bars = 234 bars = 12 pages: 4 at once, 8 more at 4/s
    expect(r.symbols[0]).toMatchObject({ written: 234, pages: 12 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });
});

describe('downloadRecent (fetch-bars incremental runs)', () => {
  it('fetches only bars completed since the newest stored one', async () => {
    const first = await downloadRecent({ ...base(), symbols: ['SPY'], timeframe: '1Min', initialBars: 30 });
    // 30 minutes back from 15:00 New York, all inside the session, the last one completed
    expect(first.symbols[0].written).toBe(30);
    fake.setNow(fake.now + 10 * 60_000);
    const next = await downloadRecent({ ...base(), symbols: ['SPY'], timeframe: '1Min', initialBars: 30 });
    expect(next.symbols[0]).toMatchObject({ written: 10, through: '2024-01-22T20:09:00.000Z' });
    fake.setNow('2024-01-22T20:00:00Z');
  });
});

describe('gap report', () => {
  it('names sessions without bars, not holidays or weekends', async () => {
    fake.market.omitBars('GME', '2024-01-17T00:00:00Z', '2024-01-18T00:00:00Z');
    await downloadHistory({
      ...base(),
      symbols: ['GME'],
      timeframe: '15Min',
      from: '2024-01-08',
      to: '2024-01-20',
    });
    const report = await findGaps(db.sql, alpaca, {
      symbol: 'GME',
      timeframe: '15Min',
      from: '2024-01-08',
      to: '2024-01-20',
      now: fake.now,
    });
    expect(report.sessions).toBe(9);
    expect(report.missing).toEqual([
      { date: '2024-01-17', open: '2024-01-17T14:30:00.000Z', close: '2024-01-17T21:00:00.000Z' },
    ]);
    // the venue answered for the 17th (nothing), so a re-run does not ask again
    const again = await downloadHistory({
      ...base(),
      symbols: ['GME'],
      timeframe: '15Min',
      from: '2024-01-08',
      to: '2024-01-20',
    });
    expect(again.symbols[0].upToDate).toBe(true);
  });

  it('checks daily and weekly bars per session and per week', async () => {
    fake.market.omitBars('MSFT', '2024-01-09T00:00:00Z', '2024-01-10T00:00:00Z');
    await downloadHistory({
      ...base(),
      symbols: ['MSFT'],
      timeframe: '1Day',
      from: '2024-01-01',
      to: '2024-01-21',
    });
    const daily = await findGaps(db.sql, alpaca, {
      symbol: 'MSFT',
      timeframe: '1Day',
      from: '2024-01-01',
      to: '2024-01-21',
      now: fake.now,
    });
    // January 2-19 minus the 15th: 13 sessions; the venue has no bar for the 9th
    expect(daily.sessions).toBe(13);
    expect(daily.missing.map((m) => m.date)).toEqual(['2024-01-09']);
    await downloadHistory({
      ...base(),
      symbols: ['SPY'],
      timeframe: '1Week',
      from: '2024-01-01',
      to: '2024-01-21',
    });
    const weekly = await findGaps(db.sql, alpaca, {
      symbol: 'SPY',
      timeframe: '1Week',
      from: '2024-01-01',
      to: '2024-01-21',
      now: fake.now,
    });
    expect(weekly).toMatchObject({ sessions: 3, missing: [] });
  });

  it('checks crypto against every day, weekends included', async () => {
    fake.market.omitBars('ETH/USD', '2024-01-13T00:00:00Z', '2024-01-14T00:00:00Z');
    await downloadHistory({
      ...base(),
      symbols: ['ETH/USD'],
      timeframe: '1Hour',
      from: '2024-01-10',
      to: '2024-01-16',
    });
    const report = await findGaps(db.sql, alpaca, {
      symbol: 'ETH/USD',
      timeframe: '1Hour',
      from: '2024-01-10',
      to: '2024-01-16',
      now: fake.now,
    });
    expect(report.sessions).toBe(6);
    expect(report.missing.map((m) => m.date)).toEqual(['2024-01-13']);
  });
});
