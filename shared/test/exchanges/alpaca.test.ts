/**
 * The Alpaca adapter, through the real SDK, against the fake Alpaca over HTTP: every adapter method,
 * every order type and time in force, fractional and notional orders, typed errors, pagination.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlpacaExchange } from '../../src/exchanges/alpaca/index.ts';
import { forgetMarketClock, marketHoursFor } from '../../src/exchanges/market-hours.ts';
import { ExchangeError } from '../../src/exchanges/types.ts';
import type { Bar } from '../../src/schemas/index.ts';
import { FakeAlpaca } from '../../src/testing/fake-alpaca/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { alpacaFor, intent } from './alpaca-helpers.ts';

// Adapters count retries and errors in the process's database (/metrics): a private one.
useTestDatabase();
let fake: FakeAlpaca;
let alpaca: AlpacaExchange;

beforeAll(async () => {
  fake = await FakeAlpaca.start({ cash: '100000' });
  alpaca = await alpacaFor(fake);
});
afterAll(async () => {
  await fake.close();
});

const rejection = async (p: Promise<unknown>): Promise<ExchangeError> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ExchangeError);
    return err as ExchangeError;
  }
  throw new Error('expected a rejection');
};

describe('account and positions', () => {
  it('reads the account with decimal strings and the day P&L', async () => {
    const a = await alpaca.getAccount();
    expect(a).toMatchObject({ exchange: 'alpaca', accountId: fake.trading.accountId, currency: 'USD' });
    expect(a.cash).toBe('100000');
    expect(a.equity).toBe('100000');
    expect(a.buyingPower).toBe('100000');
    expect(a.dayPnl).toBe('0');
  });

  it('reports the account identity the keys open', async () => {
    expect(await alpaca.accountIdentity()).toEqual({
      id: fake.trading.accountId,
      accountNumber: fake.trading.accountNumber,
    });
  });

  it('rejects wrong keys with a typed auth error', async () => {
    const wrong = await alpacaFor(fake, { keyId: 'PKWRONGKEY000', secretKey: 'wrong-secret-000000' });
    const err = await rejection(wrong.getAccount());
    expect(err.code).toBe('auth');
    expect(err.status).toBe(401);
  });
});

describe('orders', () => {
  it('fills a market order at the current price and shows the position and cash', async () => {
    fake.setPrice('AAPL', 200);
    const i = intent({ symbol: 'AAPL', qty: '3' });
    const o = await alpaca.submitOrder(i);
    expect(o).toMatchObject({
      clientOrderId: i.clientOrderId,
      symbol: 'AAPL',
      side: 'buy',
      type: 'market',
      timeInForce: 'day',
      qty: '3',
      status: 'filled',
      filledQty: '3',
      filledAvgPrice: '200',
    });
    expect(o.filledAt).not.toBeNull();
    expect(await alpaca.getOrderByClientId(i.clientOrderId)).toMatchObject({ id: o.id, status: 'filled' });
    const positions = await alpaca.getPositions();
    expect(positions.find((p) => p.symbol === 'AAPL')).toMatchObject({ qty: '3', avgEntryPrice: '200' });
    expect((await alpaca.getAccount()).cash).toBe('99400');
    // the venue received our client_order_id
    expect(fake.orders(i.clientOrderId)).toHaveLength(1);
  });

  it('rests a limit order, lists it as open, cancels it (twice, idempotently)', async () => {
    fake.setPrice('MSFT', 400);
    const i = intent({ symbol: 'MSFT', type: 'limit', limitPrice: '390.123', timeInForce: 'gtc', qty: '2' });
    const o = await alpaca.submitOrder(i);
    // a buy limit is rounded down to the cent: never pays more than asked
    expect(o).toMatchObject({ status: 'new', limitPrice: '390.12', timeInForce: 'gtc', filledQty: '0' });
    expect((await alpaca.getOpenOrders()).map((x) => x.id)).toContain(o.id);
    await alpaca.cancelOrder(o.id);
    await alpaca.cancelOrder(o.id);
    expect((await alpaca.getOrderByClientId(i.clientOrderId))?.status).toBe('canceled');
    expect((await alpaca.getOpenOrders()).map((x) => x.id)).not.toContain(o.id);
  });

  it('fills a resting limit order when the price comes to it', async () => {
    fake.setPrice('SPY', 500);
    const i = intent({ symbol: 'SPY', type: 'limit', limitPrice: '495', qty: '1' });
    const o = await alpaca.submitOrder(i);
    expect(o.status).toBe('new');
    fake.setPrice('SPY', 494.5);
    expect(await alpaca.getOrderByClientId(i.clientOrderId)).toMatchObject({
      status: 'filled',
      filledAvgPrice: '494.5',
    });
  });

  it('sends stop, stop-limit and trailing-stop orders with their prices', async () => {
    fake.setPrice('AAPL', 200);
    const stop = await alpaca.submitOrder(
      intent({ symbol: 'AAPL', side: 'sell', type: 'stop', stopPrice: '180.004', qty: '1' }),
    );
    expect(stop).toMatchObject({ type: 'stop', stopPrice: '180', status: 'new' });
    const stopLimit = await alpaca.submitOrder(
      intent({
        symbol: 'AAPL',
        side: 'sell',
        type: 'stop_limit',
        stopPrice: '170',
        limitPrice: '169.001',
        timeInForce: 'gtc',
      }),
    );
    // a sell limit rounds up to the cent: never sells for less than asked
    expect(stopLimit).toMatchObject({
      type: 'stop_limit',
      stopPrice: '170',
      limitPrice: '169.01',
      timeInForce: 'gtc',
    });
    const trailing = await alpaca.submitOrder(
      intent({
        symbol: 'AAPL',
        side: 'sell',
        type: 'trailing_stop',
        trailPercent: '5',
        qty: '1',
        timeInForce: 'gtc',
      }),
    );
    expect(trailing).toMatchObject({ type: 'trailing_stop', status: 'new' });
    expect(fake.orders(trailing.clientOrderId)[0].trailPercent).toBe('5');
    // the trailing stop fires when the price falls 5% from its high
    fake.setPrice('AAPL', 210);
    fake.setPrice('AAPL', 199);
    expect((await alpaca.getOrderByClientId(trailing.clientOrderId))?.status).toBe('filled');
    // the stop at 180 has not fired
    expect((await alpaca.getOrderByClientId(stop.clientOrderId))?.status).toBe('new');
    await alpaca.cancelOrder(stop.id);
    await alpaca.cancelOrder(stopLimit.id);
  });

  it('cancels an IOC and a FOK limit order the price does not reach', async () => {
    fake.setPrice('MSFT', 400);
    for (const tif of ['ioc', 'fok'] as const) {
      const o = await alpaca.submitOrder(
        intent({ symbol: 'MSFT', type: 'limit', limitPrice: '300', timeInForce: tif }),
      );
      expect(o).toMatchObject({ timeInForce: tif, status: 'canceled', filledQty: '0' });
    }
  });

  it('trades fractional shares and notional amounts where Alpaca allows them', async () => {
    fake.setPrice('AAPL', 200);
    const frac = await alpaca.submitOrder(intent({ symbol: 'AAPL', qty: '0.1234567891234' }));
    // rounded down to Alpaca's 9 decimal places
    expect(frac).toMatchObject({ qty: '0.123456789', status: 'filled', filledQty: '0.123456789' });
    const notional = await alpaca.submitOrder(intent({ symbol: 'AAPL', notional: '250.005' }));
    expect(notional).toMatchObject({ notional: '250', status: 'filled', filledQty: '1.25' });
  });

  it('refuses, before sending, orders Alpaca would reject (typed invalid_order naming the field)', async () => {
    const before = fake.requestsTo('POST /v2/orders').length;
    const cases = [
      [intent({ symbol: 'GME', qty: '0.5' }), 'qty'],
      [intent({ symbol: 'GME', notional: '100' }), 'notional'],
      [intent({ symbol: 'AAPL', qty: '0.5', timeInForce: 'gtc' }), 'timeInForce'],
      [intent({ symbol: 'AAPL', notional: '100', type: 'limit', limitPrice: '100' }), 'notional'],
      [intent({ symbol: 'AAPL', notional: '0.5' }), 'notional'],
      [intent({ symbol: 'AAPL', qty: '1.5', type: 'trailing_stop', trailPercent: '2' }), 'qty'],
      [intent({ symbol: 'BTC/USD', qty: '0.01', type: 'stop', stopPrice: '100' }), 'type'],
      [intent({ symbol: 'BTC/USD', qty: '0.01', timeInForce: 'fok' }), 'timeInForce'],
      [intent({ symbol: 'BTC/USD', qty: '0.00001' }), 'qty'],
      [intent({ symbol: 'GME', qty: '0.4' }), 'qty'],
    ] as const;
    for (const [i, field] of cases) {
      const err = await rejection(alpaca.submitOrder(i));
      expect(err.code, `${i.symbol} ${field}`).toBe('invalid_order');
      expect(err.message.startsWith(field), err.message).toBe(true);
    }
    expect(fake.requestsTo('POST /v2/orders').length).toBe(before);
  });

  it('trades crypto 24/7 as GTC, in the venue precision, and reports BTC/USD positions', async () => {
    fake.setPrice('BTC/USD', 60_000);
    const o = await alpaca.submitOrder(intent({ symbol: 'BTC/USD', qty: '0.0123456789123' }));
    expect(o).toMatchObject({ symbol: 'BTC/USD', timeInForce: 'gtc', qty: '0.012345678', status: 'filled' });
    const limit = await alpaca.submitOrder(
      intent({
        symbol: 'BTC/USD',
        side: 'sell',
        type: 'limit',
        limitPrice: '70000.4',
        qty: '0.01',
        timeInForce: 'gtc',
      }),
    );
    // a sell limit rounds up to the $1 tick: never sells for less than asked
    expect(limit).toMatchObject({ limitPrice: '70001', status: 'new' });
    await alpaca.cancelOrder(limit.id);
    const btc = (await alpaca.getPositions()).find((p) => p.symbol === 'BTC/USD');
    expect(btc).toMatchObject({ qty: '0.012345678', avgEntryPrice: '60000' });
    expect(fake.trading.positionList().find((p) => p.symbol === 'BTCUSD')).toBeTruthy();
  });

  it('turns 403 insufficient buying power into a typed error', async () => {
    fake.setPrice('SPY', 500);
    const err = await rejection(alpaca.submitOrder(intent({ symbol: 'SPY', qty: '100000' })));
    expect(err).toMatchObject({ code: 'insufficient_funds', status: 403 });
    expect(err.message).toMatch(/insufficient buying power/);
  });

  it('turns selling what is not held into a typed 403', async () => {
    const err = await rejection(alpaca.submitOrder(intent({ symbol: 'MSFT', side: 'sell', qty: '50' })));
    expect(err).toMatchObject({ code: 'insufficient_funds', status: 403 });
  });

  it('answers the same intent twice with the one order; another order reusing its id is a typed 422', async () => {
    fake.setPrice('AAPL', 200);
    const i = intent({ symbol: 'AAPL', qty: '1' });
    const first = await alpaca.submitOrder(i);
    const again = await alpaca.submitOrder(i);
    expect(again.id).toBe(first.id);
    expect(fake.orders(i.clientOrderId)).toHaveLength(1);
    const err = await rejection(alpaca.submitOrder({ ...i, symbol: 'MSFT' }));
    expect(err).toMatchObject({ code: 'duplicate_client_order_id', status: 422 });
    expect(fake.orders(i.clientOrderId)).toHaveLength(1);
    expect(fake.orders(i.clientOrderId)[0].symbol).toBe('AAPL');
  });

  it('answers 404s as typed errors or null', async () => {
    expect(await alpaca.getOrderByClientId('no-such-order')).toBeNull();
    expect(await rejection(alpaca.cancelOrder('00000000-0000-0000-0000-000000000000'))).toMatchObject({
      code: 'not_found',
      status: 404,
    });
    expect(await rejection(alpaca.getOrder('00000000-0000-0000-0000-000000000000'))).toMatchObject({
      code: 'not_found',
    });
    expect(await rejection(alpaca.submitOrder(intent({ symbol: 'ZZZZ' })))).toMatchObject({
      code: 'unknown_symbol',
    });
  });

  it('knows which symbols trade', async () => {
    expect(await alpaca.isTradable('AAPL')).toBe(true);
    expect(await alpaca.isTradable('BTC/USD')).toBe(true);
    expect(await alpaca.isTradable('ZZZZ')).toBe(false);
    fake.trading.addAsset({ symbol: 'DEAD', crypto: false, fractionable: false, tradable: false });
    expect(await alpaca.isTradable('DEAD')).toBe(false);
  });

  it('queues a stock market order while the market is closed and fills it at the open', async () => {
    const saved = fake.now;
    fake.setNow('2024-03-09T15:00:00Z'); // a Saturday
    fake.setPrice('MSFT', 400);
    const i = intent({ symbol: 'MSFT', qty: '1' });
    const o = await alpaca.submitOrder(i);
    expect(o.status).toBe('accepted');
    fake.setNow('2024-03-11T13:31:00Z'); // Monday 09:31 New York (after the DST switch)
    expect((await alpaca.getOrderByClientId(i.clientOrderId))?.status).toBe('filled');
    fake.setNow(saved);
  });

  it('lists open orders across pages of 500', async () => {
    fake.setPrice('SPY', 500);
    const before = (await alpaca.getOpenOrders()).length;
    for (let k = 0; k < 520; k++) {
      // bypass the adapter for speed: these are orders already resting at the venue
      fake.trading.submit({
        symbol: 'SPY',
        qty: '1',
        side: 'buy',
        type: 'limit',
        limit_price: '1',
        time_in_force: 'gtc',
        client_order_id: `bulk-${k}`,
      });
      fake.setNow(fake.now + 1000);
    }
    const open = await alpaca.getOpenOrders();
    expect(open.length).toBe(before + 520);
    expect(new Set(open.map((o) => o.id)).size).toBe(open.length);
    for (const o of fake.trading.orders)
      if (o.clientOrderId?.startsWith('bulk-')) fake.trading.cancel(o.id as string);
  });
});

describe('clock and calendar', () => {
  it('reads the market clock', async () => {
    fake.setNow('2024-03-05T15:00:00Z');
    const c = await alpaca.getClock();
    expect(c).toMatchObject({
      isOpen: true,
      nextClose: '2024-03-05T21:00:00.000Z',
      nextOpen: '2024-03-06T14:30:00.000Z',
    });
  });

  it('lists sessions without weekends and holidays, with New York times as instants', async () => {
    const days = await alpaca.getCalendar('2024-01-12', '2024-01-17');
    // 13-14 weekend, 15 Martin Luther King Jr. Day
    expect(days.map((d) => d.date)).toEqual(['2024-01-12', '2024-01-16', '2024-01-17']);
    expect(days[0]).toEqual({
      date: '2024-01-12',
      open: '2024-01-12T14:30:00.000Z',
      close: '2024-01-12T21:00:00.000Z',
    });
    const summer = await alpaca.getCalendar('2024-07-03', '2024-07-05');
    // early close on the 3rd, holiday on the 4th, EDT
    expect(summer).toEqual([
      { date: '2024-07-03', open: '2024-07-03T13:30:00.000Z', close: '2024-07-03T17:00:00.000Z' },
      { date: '2024-07-05', open: '2024-07-05T13:30:00.000Z', close: '2024-07-05T20:00:00.000Z' },
    ]);
  });

  it('says stocks trade only while the market is open and crypto always', async () => {
    fake.setNow('2024-03-05T15:00:00Z');
    forgetMarketClock(alpaca);
    expect((await marketHoursFor(alpaca, 'AAPL')).open).toBe(true);
    fake.setNow('2024-03-09T15:00:00Z');
    forgetMarketClock(alpaca);
    const closed = await marketHoursFor(alpaca, 'AAPL');
    expect(closed).toMatchObject({ open: false, nextOpen: '2024-03-11T13:30:00.000Z' });
    expect(closed.reason).toMatch(/market closed until 2024-03-11/);
    expect((await marketHoursFor(alpaca, 'BTC/USD')).open).toBe(true);
    fake.setNow('2024-03-05T15:00:00Z');
    forgetMarketClock(alpaca);
  });
});

describe('market data', () => {
  const collect = async (it: AsyncIterable<Bar[]>): Promise<{ pages: number; bars: Bar[] }> => {
    let pages = 0;
    const bars: Bar[] = [];
    for await (const page of it) {
      pages++;
      bars.push(...page);
    }
    return { pages, bars };
  };

  it('pages through stock minute bars in order, without duplicates, on the configured feed', async () => {
    const before = fake.requestsTo('GET /v2/stocks/bars').length;
    const { pages, bars } = await collect(
      alpaca.getBars({
        symbol: 'AAPL',
        timeframe: '1Min',
        start: '2024-01-10T00:00:00Z',
        end: '2024-01-17T00:00:00Z',
        pageSize: 250,
      }),
    );
    // Jan 10, 11, 12, 16 are sessions of 390 minutes (13-14 weekend, 15 holiday)
    expect(bars.length).toBe(4 * 390);
    expect(pages).toBe(Math.ceil((4 * 390) / 250));
    const requests = fake.requestsTo('GET /v2/stocks/bars').slice(before);
    expect(requests.length).toBe(pages);
    expect(requests.every((r) => r.query.feed === 'iex' && r.query.limit === '250')).toBe(true);
    const times = bars.map((b) => Date.parse(b.time));
    expect(times.every((t, k) => k === 0 || t > times[k - 1])).toBe(true);
    expect(bars[0]).toMatchObject({ symbol: 'AAPL', timeframe: '1Min', time: '2024-01-10T14:30:00.000Z' });
    expect(bars.at(-1)?.time).toBe('2024-01-16T20:59:00.000Z');
    for (const b of bars.slice(0, 50)) {
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
    }
  });

  it('asks for the SIP feed when configured', async () => {
    const sip = await alpacaFor(fake, { feed: 'sip' });
    const before = fake.requestsTo('GET /v2/stocks/bars').length;
    const { bars } = await collect(
      sip.getBars({
        symbol: 'MSFT',
        timeframe: '1Day',
        start: '2024-01-01T00:00:00Z',
        end: '2024-02-01T00:00:00Z',
      }),
    );
    expect(bars.length).toBe(21); // January 2024 sessions
    expect(fake.requestsTo('GET /v2/stocks/bars').slice(before)[0].query.feed).toBe('sip');
  });

  it('pages through crypto bars around the clock', async () => {
    const { pages, bars } = await collect(
      alpaca.getBars({
        symbol: 'BTC/USD',
        timeframe: '1Hour',
        start: '2024-01-01T00:00:00Z',
        end: '2024-01-08T23:00:00Z',
        pageSize: 50,
      }),
    );
    expect(bars.length).toBe(8 * 24);
    expect(pages).toBe(Math.ceil((8 * 24) / 50));
    expect(bars[0]).toMatchObject({ symbol: 'BTC/USD', time: '2024-01-01T00:00:00.000Z' });
    // crypto data needs no keys: the SDK sends none
    expect(fake.requestsTo('GET /v1beta3/crypto/{loc}/bars').length).toBeGreaterThanOrEqual(pages);
  });

  it('serves the latest completed bars for stocks and crypto', async () => {
    fake.setNow('2024-03-05T15:00:30Z');
    const minute = await alpaca.getLatestBars(['AAPL', 'BTC/USD'], '1Min');
    expect(minute.map((b) => [b.symbol, b.time]).sort()).toEqual([
      ['AAPL', '2024-03-05T14:59:00.000Z'],
      ['BTC/USD', '2024-03-05T14:59:00.000Z'],
    ]);
    const daily = await alpaca.getLatestBars(['AAPL'], '1Day');
    expect(daily).toHaveLength(1);
    // the newest completed daily bar is Monday's (New York midnight of 2024-03-04)
    expect(daily[0].time).toBe('2024-03-04T05:00:00.000Z');
    const hourly = await alpaca.getLatestBars(['BTC/USD'], '1Hour');
    expect(hourly[0].time).toBe('2024-03-05T14:00:00.000Z');
    fake.setNow('2024-03-05T15:00:00Z');
  });
});
