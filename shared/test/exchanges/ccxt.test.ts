/**
 * The CCXT adapter, through the real ccxt library, against the fake Binance spot API over HTTP
 * (pointed at through ccxt's own `urls.api`): markets, balance, orders with client order ids, OHLCV
 * history, typed errors, the live-trading guard, and a fault storm without a duplicate order — on a
 * venue whose client order ids are unique among open orders only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/index.ts';
import { type CcxtExchange, createCcxtExchange } from '../../src/exchanges/ccxt/index.ts';
import { assertTradingMode, TradingModeError } from '../../src/exchanges/trading-mode.ts';
import { ExchangeError } from '../../src/exchanges/types.ts';
import { setLogDestination } from '../../src/log/index.ts';
import { type Bar, OrderIntent } from '../../src/schemas/index.ts';
import { FakeBinance, type FaultMode } from '../../src/testing/fake-binance/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';

// Adapters count retries and errors in the process's database (/metrics): a private one.
const db = useTestDatabase();
let fake: FakeBinance;
let venue: CcxtExchange;
const lines: string[] = [];

async function ccxtFor(f: FakeBinance, options: Record<string, unknown> = {}): Promise<CcxtExchange> {
  const api = `${f.url}/api/v3`;
  return (await createCcxtExchange({
    apiKey: f.apiKey,
    secret: f.secret,
    sandbox: true,
    urls: { public: api, private: api, v1: `${f.url}/api/v1` },
    rateLimitMs: 0,
    timeoutMs: 700,
    recvWindowMs: 1_000,
    clockSkewMs: 100,
    retry: { maxRetries: 6, initialDelayMs: 2, maxDelayMs: 20 },
    ...options,
  })) as CcxtExchange;
}

let n = 0;
const intent = (p: Record<string, unknown>) =>
  OrderIntent.parse({
    clientOrderId: `wv-ccxt-${++n}-${Date.now().toString(36)}`,
    strategy: 'test',
    side: 'buy',
    type: 'market',
    timeInForce: 'gtc',
    ...p,
  });

const rejection = async (p: Promise<unknown>): Promise<ExchangeError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExchangeError);
  return err as ExchangeError;
};

beforeAll(async () => {
  setLogDestination((l) => lines.push(l), 'debug');
  fake = await FakeBinance.start({ balances: { USDT: '100000' } });
  venue = await ccxtFor(fake);
  fake.setPrice('BTCUSDT', 50_000);
  fake.setPrice('ETHUSDT', 3_000);
});
afterAll(async () => {
  await fake.close();
});

describe('markets and account', () => {
  it('loads spot markets with their precision and minimums', async () => {
    expect(await venue.isTradable('BTC/USDT')).toBe(true);
    expect(await venue.isTradable('DOGE/USDT')).toBe(false);
    const rules = await venue.instrumentRules('BTC/USDT');
    expect(rules).toMatchObject({ qtyStep: '0.00001', minQty: '0.00001', minNotional: '5' });
    expect(rules.priceTick('50000.123')).toBe('0.01');
  });

  it('reads the balance as an account in the quote currency, with the venue uid', async () => {
    const a = await venue.getAccount();
    expect(a).toMatchObject({
      exchange: 'ccxt',
      accountId: String(fake.uid),
      currency: 'USDT',
      cash: '100000',
      buyingPower: '100000',
    });
  });

  it('is always open, every day a session', async () => {
    expect((await venue.getClock()).isOpen).toBe(true);
    expect((await venue.getCalendar('2024-01-06', '2024-01-08')).map((d) => d.date)).toEqual([
      '2024-01-06',
      '2024-01-07',
      '2024-01-08',
    ]);
  });

  it('rejects wrong keys with a typed auth error', async () => {
    const wrong = await ccxtFor(fake, { secret: 'not-the-secret-000000' });
    expect((await rejection(wrong.getAccount())).code).toBe('auth');
  });
});

describe('orders', () => {
  it('buys at market in the venue lot size, with our client order id, and shows the holding', async () => {
    const i = intent({ symbol: 'BTC/USDT', qty: '0.0123456' });
    const o = await venue.submitOrder(i);
    expect(o).toMatchObject({
      clientOrderId: i.clientOrderId,
      symbol: 'BTC/USDT',
      qty: '0.01234',
      status: 'filled',
      filledQty: '0.01234',
      filledAvgPrice: '50000',
    });
    expect(fake.ordersByClientId(i.clientOrderId)).toHaveLength(1);
    expect((await venue.getPositions()).find((p) => p.symbol === 'BTC/USDT')).toMatchObject({
      qty: '0.01234',
      currentPrice: '50000',
    });
    expect((await venue.getAccount()).cash).toBe('99383');
  });

  it('buys a cash amount at market (quoteOrderQty)', async () => {
    const o = await venue.submitOrder(intent({ symbol: 'ETH/USDT', notional: '301' }));
    expect(o).toMatchObject({ status: 'filled', filledQty: '0.1003' });
  });

  it('rests a limit order, finds it with and without its symbol, cancels it', async () => {
    const i = intent({ symbol: 'ETH/USDT', type: 'limit', limitPrice: '2500.005', qty: '0.5' });
    const o = await venue.submitOrder(i);
    expect(o).toMatchObject({ type: 'limit', limitPrice: '2500', status: 'new', timeInForce: 'gtc' });
    expect((await venue.getOpenOrders()).map((x) => x.clientOrderId)).toContain(i.clientOrderId);
    const fresh = await ccxtFor(fake);
    expect((await fresh.getOrderByClientId(i.clientOrderId))?.id).toBe(o.id);
    await venue.cancelOrder(o.id);
    expect((await venue.getOrderByClientId(i.clientOrderId, 'ETH/USDT'))?.status).toBe('canceled');
    // closed now: without its symbol a fresh process cannot be sure, and says so instead of "none"
    const err = await rejection(fresh.getOrderByClientId(i.clientOrderId));
    expect(err.code).toBe('unknown');
    expect(await fresh.getOrderByClientId('never-placed', 'ETH/USDT')).toBeNull();
    expect((await rejection(venue.cancelOrder(o.id))).code).toBe('not_found');
  });

  it('books partial fills the venue reports, and lets IOC remainders expire', async () => {
    const i = intent({ symbol: 'BTC/USDT', type: 'limit', limitPrice: '49000', qty: '0.01' });
    const o = await venue.submitOrder(i);
    fake.fill(fake.ordersByClientId(i.clientOrderId)[0], '0.004', '49000');
    expect(await venue.getOrderByClientId(i.clientOrderId, 'BTC/USDT')).toMatchObject({
      status: 'partially_filled',
      filledQty: '0.004',
      filledAvgPrice: '49000',
    });
    await venue.cancelOrder(o.id);
    const ioc = await venue.submitOrder(
      intent({ symbol: 'BTC/USDT', type: 'limit', limitPrice: '40000', qty: '0.001', timeInForce: 'ioc' }),
    );
    expect(ioc).toMatchObject({ status: 'expired', timeInForce: 'ioc' });
  });

  it('refuses before sending what the venue filters would reject', async () => {
    const before = fake.requestsTo('POST /api/v3/order').length;
    expect(
      (await rejection(venue.submitOrder(intent({ symbol: 'BTC/USDT', qty: '0.000001' })))).message,
    ).toMatch(/^qty .* rounds to 0/);
    expect(
      (await rejection(venue.submitOrder(intent({ symbol: 'BTC/USDT', qty: '0.00005' })))).message,
    ).toMatch(/^qty order value .* below .* minimum 5/);
    expect(
      (
        await rejection(
          venue.submitOrder(intent({ symbol: 'BTC/USDT', type: 'stop', stopPrice: '1', qty: '1' })),
        )
      ).code,
    ).toBe('invalid_order');
    expect((await rejection(venue.submitOrder(intent({ symbol: 'DOGE/USDT', qty: '1' })))).code).toBe(
      'unknown_symbol',
    );
    expect(fake.requestsTo('POST /api/v3/order').length).toBe(before);
  });

  it('turns insufficient balance into a typed error', async () => {
    const err = await rejection(venue.submitOrder(intent({ symbol: 'BTC/USDT', qty: '100' })));
    expect(err.code).toBe('insufficient_funds');
  });

  it('answers the same intent twice with one order; another open order reusing the id is a typed duplicate', async () => {
    const i = intent({ symbol: 'ETH/USDT', type: 'limit', limitPrice: '2000', qty: '0.1' });
    const first = await venue.submitOrder(i);
    expect((await venue.submitOrder(i)).id).toBe(first.id);
    expect(fake.ordersByClientId(i.clientOrderId)).toHaveLength(1);
    const err = await rejection(venue.submitOrder({ ...i, qty: '0.2' }));
    expect(err.code).toBe('duplicate_client_order_id');
    await venue.cancelOrder(first.id);
  });
});

describe('history', () => {
  it('pages OHLCV across many requests without gaps or repeats', async () => {
    const before = fake.requestsTo('GET /api/v3/klines').length;
    const bars: Bar[] = [];
    for await (const page of venue.getBars({
      symbol: 'ETH/USDT',
      timeframe: '15Min',
      start: '2024-02-01T00:00:00Z',
      end: '2024-02-10T23:45:00Z',
      pageSize: 100,
    }))
      bars.push(...page);
    expect(bars.length).toBe(10 * 96);
    expect(new Set(bars.map((b) => b.time)).size).toBe(bars.length);
    expect(bars[0].time).toBe('2024-02-01T00:00:00.000Z');
    expect(bars.at(-1)?.time).toBe('2024-02-10T23:45:00.000Z');
    expect(fake.requestsTo('GET /api/v3/klines').length - before).toBe(Math.ceil((10 * 96) / 100));
    const ask = fake.requestsTo('GET /api/v3/klines').at(-1);
    expect(ask?.query).toMatchObject({ symbol: 'ETHUSDT', interval: '15m' });
  });

  it('serves the newest completed candle, not the one still forming', async () => {
    fake.setNow('2024-03-05T15:00:30Z');
    const [latest] = await venue.getLatestBars(['BTC/USDT'], '1Min');
    expect(latest.time).toBe('2024-03-05T14:59:00.000Z');
    const [hour] = await venue.getLatestBars(['BTC/USDT'], '1Hour');
    expect(hour.time).toBe('2024-03-05T14:00:00.000Z');
    fake.setNow('2024-03-05T15:00:00Z');
  });
});

describe('faults and the live guard', () => {
  it('places each of 21 orders exactly once through 429 / 500 / timeout / drop storms', {
    timeout: 90_000,
  }, async () => {
    const modes: { mode: FaultMode; status?: number; delayMs?: number }[] = [
      { mode: 'status', status: 429 },
      { mode: 'status', status: 500 },
      { mode: 'status-after', status: 502 },
      { mode: 'drop' },
      { mode: 'drop-after' },
      // held past the client's deadline and past its recvWindow: refused by the venue when processed
      { mode: 'delay', delayMs: 1_300 },
      // held past the client's deadline but inside the recvWindow: placed by the venue late
      { mode: 'delay', delayMs: 850 },
    ];
    const intents = Array.from({ length: 21 }, (_, k) =>
      intent({ symbol: k % 2 ? 'ETH/USDT' : 'BTC/USDT', qty: k % 2 ? '0.01' : '0.001' }),
    );
    for (const [k, i] of intents.entries()) {
      fake.inject({ route: 'POST /api/v3/order', ...modes[k % modes.length] });
      if (k % 3 === 0) fake.inject({ route: 'GET /api/v3/order', mode: 'status', status: 503 });
      if (k % 4 === 0) fake.inject({ route: 'GET /api/v3/order', mode: 'drop' });
      const o = await venue.submitOrder(i);
      expect(o.clientOrderId).toBe(i.clientOrderId);
    }
    await new Promise((r) => setTimeout(r, 1_400));
    fake.clearFaults();
    for (const i of intents) expect(fake.ordersByClientId(i.clientOrderId), i.clientOrderId).toHaveLength(1);
  });

  it('trades live only with WEAVER_LIVE_TRADING and the uid the keys open', async () => {
    const live = await ccxtFor(fake, { sandbox: false });
    expect(live.live).toBe(true);
    const refused = await assertTradingMode(
      live,
      parseEnv({ WEAVER_LIVE_TRADING: 'true', WEAVER_CCXT_ACCOUNT_ID: '1' }),
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TradingModeError);
    expect((refused as TradingModeError).fields).toHaveProperty('WEAVER_CCXT_ACCOUNT_ID');
    expect(
      await assertTradingMode(
        live,
        parseEnv({ WEAVER_LIVE_TRADING: 'true', WEAVER_CCXT_ACCOUNT_ID: String(fake.uid) }),
      ),
    ).toMatchObject({ mode: 'live' });
    expect(await assertTradingMode(venue, parseEnv({}))).toMatchObject({ mode: 'paper' });
  });

  it('counts the retries for /metrics', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const [row] = await db.sql<{ n: number }[]>`
      SELECT coalesce(sum(value), 0)::float8 AS n FROM metric_counters
      WHERE name = 'weaver_exchange_retries_total' AND labels->>'exchange' = 'ccxt' AND labels->>'operation' = 'submit'`;
    expect(row.n).toBeGreaterThanOrEqual(18);
  });

  it('never writes the API secret to a log line', () => {
    expect(lines.some((l) => l.includes('ccxt call retried'))).toBe(true);
    for (const l of lines) {
      expect(l).not.toContain(fake.secret);
      expect(l).not.toContain(fake.apiKey);
    }
  });
});
