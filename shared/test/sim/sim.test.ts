import { afterAll, describe, expect, it } from 'vitest';
import { upsertBars } from '../../src/db/index.ts';
import { DemoMarket } from '../../src/demo/index.ts';
import { ExchangeError } from '../../src/exchanges/index.ts';
import { createSimExchange, type SimExchange } from '../../src/exchanges/sim/index.ts';
import type { Bar, OrderIntent } from '../../src/schemas/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';

const t = useTestDatabase();

const T0 = Date.UTC(2024, 2, 4, 10, 0);
const MIN = 60_000;
/** Sets the process clock (clock() reads WEAVER_CLOCK on every call) to T0 + `minutes`. */
function at(minutes: number): void {
  process.env.WEAVER_CLOCK = `${T0 + minutes * MIN}@${Date.now()}x1`;
}
afterAll(() => {
  delete process.env.WEAVER_CLOCK;
});

/** A 1Min bar of `symbol` starting at T0 + i minutes. */
function bar(symbol: string, i: number, o: number, h: number, l: number, c: number, volume = 1000): Bar {
  return {
    symbol,
    timeframe: '1Min',
    time: new Date(T0 + i * MIN).toISOString(),
    open: o,
    high: h,
    low: l,
    close: c,
    volume,
  };
}
/** Five quiet bars at 100 before the test's own bars. */
const history = (symbol: string): Bar[] => [0, 1, 2, 3, 4].map((i) => bar(symbol, i, 100, 100.5, 99.5, 100));

function intent(o: Partial<OrderIntent> & { clientOrderId: string; symbol: string }): OrderIntent {
  return {
    strategy: 'manual',
    signalId: null,
    side: 'buy',
    type: 'market',
    timeInForce: 'gtc',
    qty: '10',
    ...o,
  } as OrderIntent;
}

let accounts = 0;
/** A fresh venue account, so each test starts with 100000 in cash and no positions. */
function venue(options: Record<string, unknown> = {}): SimExchange {
  return createSimExchange({ account: `acct-${++accounts}`, ...options });
}

async function expectExchangeError(
  p: Promise<unknown>,
  code: string,
  status: number,
): Promise<ExchangeError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExchangeError);
  expect((err as ExchangeError).code).toBe(code);
  expect((err as ExchangeError).status).toBe(status);
  return err as ExchangeError;
}

const count = async (table: string, account: string): Promise<number> => {
  const [r] = await t.sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE account = $1`, [account]);
  return r.n as number;
};

describe('sim matching on hand-made bars', () => {
  it('fills a market order at the open of the first bar after the newest stored one, cash to the cent', async () => {
    await upsertBars(t.sql, history('MKT'));
    at(5.2);
    const sim = venue();
    const placed = await sim.submitOrder(intent({ clientOrderId: 'mkt-1', symbol: 'MKT', qty: '10' }));
    expect(placed.status).toBe('new');
    // no newer bar yet: nothing fills, however often the venue is asked
    expect((await sim.getOrderByClientId('mkt-1'))?.status).toBe('new');
    await upsertBars(t.sql, [bar('MKT', 5, 101.37, 103, 99, 102)]);
    expect((await sim.getOrderByClientId('mkt-1'))?.status).toBe('new'); // bar 5 is not complete at 5.2
    at(6.1);
    const filled = await sim.getOrderByClientId('mkt-1');
    expect(filled).toMatchObject({ status: 'filled', filledQty: '10', filledAvgPrice: '101.37' });
    // bar 5 opened before the order arrived (5.2): the fill is stamped with the order's arrival, inside bar 5
    const filledAt = Date.parse(filled?.filledAt ?? '');
    expect(filledAt).toBeGreaterThanOrEqual(T0 + 5.2 * MIN);
    expect(filledAt).toBeLessThan(T0 + 6 * MIN);
    const account = await sim.getAccount();
    expect(account.cash).toBe('98986.3'); // 100000 − 10 × 101.37
    expect(account.equity).toBe('100006.3'); // cash + 10 × 102 (last close)
    const [pos] = await sim.getPositions();
    expect(pos).toMatchObject({
      symbol: 'MKT',
      qty: '10',
      avgEntryPrice: '101.37',
      currentPrice: '102',
      unrealizedPnl: '6.3',
    });
  });

  it('fills a buy limit at min(open, limit) when the bar reaches it, and never on a bar that does not', async () => {
    await upsertBars(t.sql, history('LIM'));
    at(5.1);
    const sim = venue();
    await sim.submitOrder(
      intent({ clientOrderId: 'lim-touch', symbol: 'LIM', type: 'limit', limitPrice: '99' }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'lim-gap', symbol: 'LIM', type: 'limit', limitPrice: '99.9' }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'lim-miss', symbol: 'LIM', type: 'limit', limitPrice: '90' }),
    );
    // opens 99.5 (above 99, below 99.9), trades down to 98.8
    await upsertBars(t.sql, [bar('LIM', 5, 99.5, 100, 98.8, 99.2)]);
    at(6.1);
    expect(await sim.getOrderByClientId('lim-touch')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '99',
    });
    expect(await sim.getOrderByClientId('lim-gap')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '99.5',
    });
    expect(await sim.getOrderByClientId('lim-miss')).toMatchObject({ status: 'new', filledQty: '0' });
  });

  it('fills a sell limit at max(open, limit), stops at max/min(open, stop), including gaps', async () => {
    await upsertBars(t.sql, history('STP'));
    at(5.1);
    const sim = venue({ shorting: true });
    await sim.submitOrder(
      intent({ clientOrderId: 'sell-lim', symbol: 'STP', side: 'sell', type: 'limit', limitPrice: '101' }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'buy-stop', symbol: 'STP', type: 'stop', stopPrice: '101.5' }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'sell-stop', symbol: 'STP', side: 'sell', type: 'stop', stopPrice: '99' }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'buy-stop-gap', symbol: 'STP', type: 'stop', stopPrice: '100.2' }),
    );
    // opens 100.4 (gapped through 100.2), high 102, low 100.1: sell stop at 99 never triggers
    await upsertBars(t.sql, [bar('STP', 5, 100.4, 102, 100.1, 101)]);
    at(6.1);
    expect(await sim.getOrderByClientId('sell-lim')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '101',
    });
    expect(await sim.getOrderByClientId('buy-stop')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '101.5',
    });
    expect(await sim.getOrderByClientId('buy-stop-gap')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '100.4',
    });
    expect(await sim.getOrderByClientId('sell-stop')).toMatchObject({ status: 'new' });
    // the next bar gaps down through 99: the sell stop fills at the open, not at its level
    await upsertBars(t.sql, [bar('STP', 6, 98.2, 98.5, 97, 98)]);
    at(7.1);
    expect(await sim.getOrderByClientId('sell-stop')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '98.2',
    });
  });

  it('treats stop_limit as a stop that becomes a limit, and trails a trailing stop from the peak', async () => {
    await upsertBars(t.sql, history('STL'));
    at(5.1);
    const sim = venue({ shorting: true });
    // triggers inside bar 5 at 101 which is within the 101.2 limit → 101
    await sim.submitOrder(
      intent({
        clientOrderId: 'sl-in',
        symbol: 'STL',
        type: 'stop_limit',
        stopPrice: '101',
        limitPrice: '101.2',
      }),
    );
    // triggers at 101 but the limit 100.8 is below the trigger: rests as a limit, fills on bar 6 at min(open, 100.8)
    await sim.submitOrder(
      intent({
        clientOrderId: 'sl-rest',
        symbol: 'STL',
        type: 'stop_limit',
        stopPrice: '101',
        limitPrice: '100.8',
      }),
    );
    // sell trailing 2% from the reference close 100: stop 98, peak rises to 103 on bar 5 → stop 100.94 on bar 6
    await sim.submitOrder(
      intent({
        clientOrderId: 'trail',
        symbol: 'STL',
        side: 'sell',
        type: 'trailing_stop',
        trailPercent: '2',
      }),
    );
    await upsertBars(t.sql, [bar('STL', 5, 100.2, 103, 100.1, 102.5)]);
    at(6.1);
    expect(await sim.getOrderByClientId('sl-in')).toMatchObject({ status: 'filled', filledAvgPrice: '101' });
    expect(await sim.getOrderByClientId('sl-rest')).toMatchObject({ status: 'new' });
    expect(await sim.getOrderByClientId('trail')).toMatchObject({ status: 'new' });
    await upsertBars(t.sql, [bar('STL', 6, 101.5, 101.6, 100.5, 100.7)]);
    at(7.1);
    expect(await sim.getOrderByClientId('sl-rest')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '100.8',
    });
    expect(await sim.getOrderByClientId('trail')).toMatchObject({
      status: 'filled',
      filledAvgPrice: '100.94',
    });
  });

  it('honours ioc and fok against the bar volume, and expires day orders at the end of the UTC day', async () => {
    await upsertBars(t.sql, history('TIF'));
    at(5.1);
    const sim = venue({ maxVolumeShare: 0.1 });
    await sim.submitOrder(intent({ clientOrderId: 'ioc', symbol: 'TIF', qty: '30', timeInForce: 'ioc' }));
    await sim.submitOrder(intent({ clientOrderId: 'fok', symbol: 'TIF', qty: '30', timeInForce: 'fok' }));
    await sim.submitOrder(intent({ clientOrderId: 'fok-ok', symbol: 'TIF', qty: '15', timeInForce: 'fok' }));
    await sim.submitOrder(
      intent({
        clientOrderId: 'ioc-miss',
        symbol: 'TIF',
        type: 'limit',
        limitPrice: '90',
        timeInForce: 'ioc',
      }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'gtc-part', symbol: 'TIF', qty: '30', timeInForce: 'gtc' }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'day', symbol: 'TIF', type: 'limit', limitPrice: '50', timeInForce: 'day' }),
    );
    await sim.submitOrder(
      intent({ clientOrderId: 'gtc', symbol: 'TIF', type: 'limit', limitPrice: '50', timeInForce: 'gtc' }),
    );
    // volume 200 × 10% = 20 shares per order per bar
    await upsertBars(t.sql, [
      bar('TIF', 5, 100, 100.2, 99.8, 100, 200),
      bar('TIF', 6, 100.1, 100.3, 99.9, 100.2, 200),
    ]);
    at(7.1);
    expect(await sim.getOrderByClientId('ioc')).toMatchObject({
      status: 'canceled',
      filledQty: '20',
      filledAvgPrice: '100',
    });
    expect(await sim.getOrderByClientId('fok')).toMatchObject({ status: 'canceled', filledQty: '0' });
    expect(await sim.getOrderByClientId('fok-ok')).toMatchObject({ status: 'filled', filledQty: '15' });
    expect(await sim.getOrderByClientId('ioc-miss')).toMatchObject({ status: 'canceled', filledQty: '0' });
    // gtc takes 20 on bar 5 and the last 10 at bar 6's open
    const part = await sim.getOrderByClientId('gtc-part');
    expect(part).toMatchObject({ status: 'filled', filledQty: '30' });
    expect(part?.filledAvgPrice).toBe('100.0333333333'); // (20 × 100 + 10 × 100.1) / 30
    expect(await sim.getOrderByClientId('day')).toMatchObject({ status: 'new' });
    at(14 * 60 + 1); // past midnight UTC
    expect(await sim.getOrderByClientId('day')).toMatchObject({ status: 'expired' });
    expect(await sim.getOrderByClientId('gtc')).toMatchObject({ status: 'new' });
  });

  it('rejects what the account cannot pay for or deliver (403), duplicates (422) and unknown symbols', async () => {
    await upsertBars(t.sql, history('FND'));
    at(5.1);
    const sim = venue({ initialCash: '1000' });
    const broke = await expectExchangeError(
      sim.submitOrder(intent({ clientOrderId: 'too-big', symbol: 'FND', qty: '11' })),
      'insufficient_funds',
      403,
    );
    expect(broke.message).toMatch(/insufficient buying power/);
    await expectExchangeError(
      sim.submitOrder(intent({ clientOrderId: 'naked', symbol: 'FND', side: 'sell', qty: '1' })),
      'insufficient_funds',
      403,
    );
    const ok = await sim.submitOrder(intent({ clientOrderId: 'fits', symbol: 'FND', qty: '6' }));
    expect(ok.status).toBe('new');
    // the open buy reserves 600 of the 1000: another 6 no longer fits
    await expectExchangeError(
      sim.submitOrder(intent({ clientOrderId: 'reserved', symbol: 'FND', qty: '6' })),
      'insufficient_funds',
      403,
    );
    await expectExchangeError(
      sim.submitOrder(intent({ clientOrderId: 'fits', symbol: 'FND', qty: '1' })),
      'duplicate_client_order_id',
      422,
    );
    await expectExchangeError(
      sim.submitOrder(intent({ clientOrderId: 'nope', symbol: 'NOSUCH', qty: '1' })),
      'unknown_symbol',
      422,
    );
    await expectExchangeError(
      sim.submitOrder(intent({ clientOrderId: 'opg', symbol: 'FND', qty: '1', timeInForce: 'opg' })),
      'invalid_order',
      422,
    );
    const account = (sim as unknown as { opts: { account: string } }).opts.account;
    expect(await count('sim_orders', account)).toBe(1);
    expect(await sim.isTradable('FND')).toBe(true);
    expect(await sim.isTradable('NOSUCH')).toBe(false);
  });

  it('cancels open orders, refuses to cancel a final one, and lists open orders', async () => {
    await upsertBars(t.sql, history('CXL'));
    at(5.1);
    const sim = venue();
    const a = await sim.submitOrder(
      intent({ clientOrderId: 'cxl-a', symbol: 'CXL', type: 'limit', limitPrice: '90' }),
    );
    const b = await sim.submitOrder(
      intent({ clientOrderId: 'cxl-b', symbol: 'CXL', type: 'limit', limitPrice: '91' }),
    );
    expect((await sim.getOpenOrders()).map((o) => o.clientOrderId)).toEqual(['cxl-a', 'cxl-b']);
    await sim.cancelOrder(a.id);
    expect(await sim.getOrderByClientId('cxl-a')).toMatchObject({ status: 'canceled' });
    expect((await sim.getOpenOrders()).map((o) => o.clientOrderId)).toEqual(['cxl-b']);
    await expectExchangeError(sim.cancelOrder(a.id), 'invalid_order', 422);
    await expectExchangeError(sim.cancelOrder('sim-999999'), 'not_found', 404);
    expect(b.id).toMatch(/^sim-\d+$/);
  });

  it('is deterministic: the same orders on the same bars give the same fills', async () => {
    await upsertBars(t.sql, history('DET'));
    at(5.1);
    const one = venue();
    const two = venue();
    for (const sim of [one, two]) {
      await sim.submitOrder(
        intent({ clientOrderId: 'd1', symbol: 'DET', type: 'limit', limitPrice: '99.7' }),
      );
      await sim.submitOrder(intent({ clientOrderId: 'd2', symbol: 'DET', qty: '3' }));
    }
    await upsertBars(t.sql, [bar('DET', 5, 99.9, 100.1, 99.6, 99.8)]);
    at(6.1);
    // ids and arrival times differ between the two accounts; everything the bars decide must not
    const strip = (o: unknown) => ({ ...(o as object), id: 0, submittedAt: 0, updatedAt: 0, filledAt: 0 });
    expect(strip(await one.getOrderByClientId('d1'))).toEqual(strip(await two.getOrderByClientId('d1')));
    expect(strip(await one.getOrderByClientId('d2'))).toEqual(strip(await two.getOrderByClientId('d2')));
    expect((await one.getAccount()).cash).toBe((await two.getAccount()).cash);
  });
});

describe('sim market data', () => {
  it('serves demo bars in pages up to the newest completed bar, and latest bars at the clock', async () => {
    at(30.5);
    const sim = venue();
    const pages: Bar[][] = [];
    for await (const page of sim.getBars({
      symbol: 'ACME',
      timeframe: '1Min',
      start: new Date(T0).toISOString(),
      pageSize: 7,
    })) {
      pages.push(page);
    }
    const bars = pages.flat();
    expect(pages[0]).toHaveLength(7);
    expect(bars).toHaveLength(30); // T0 … T0+29m; the bar at 30 is still open at 30.5
    expect(bars.at(-1)?.time).toBe(new Date(T0 + 29 * MIN).toISOString());
    expect(bars).toEqual(new DemoMarket().bars('ACME', '1Min', T0, T0 + 29 * MIN));
    const [latest] = await sim.getLatestBars(['ACME'], '1Min');
    expect(latest).toEqual(bars.at(-1));
    expect(await sim.getLatestBars(['NOSUCH'], '1Min')).toEqual([]);
    const clockNow = await sim.getClock();
    expect(clockNow).toMatchObject({ isOpen: true, timestamp: expect.stringMatching(/^2024-03-04T10:30:3/) });
    const days = await sim.getCalendar('2024-03-01', '2024-03-03');
    expect(days.map((d) => d.date)).toEqual(['2024-03-01', '2024-03-02', '2024-03-03']);
    expect(days[0]).toMatchObject({ open: '2024-03-01T00:00:00.000Z', close: '2024-03-02T00:00:00.000Z' });
  });

  it('pages stored bars of other symbols', async () => {
    await upsertBars(t.sql, history('PGD'));
    at(10);
    const sim = venue();
    const pages: Bar[][] = [];
    for await (const page of sim.getBars({
      symbol: 'PGD',
      timeframe: '1Min',
      start: new Date(T0 + MIN).toISOString(),
      pageSize: 2,
    })) {
      pages.push(page);
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2]);
    expect(pages.flat().map((b) => b.time)).toEqual(
      [1, 2, 3, 4].map((i) => new Date(T0 + i * MIN).toISOString()),
    );
  });
});
