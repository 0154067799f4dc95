/**
 * The pipeline on a CCXT venue: the real ccxt library against the fake Binance over HTTP. Binance finds
 * a closed order by client id only with its symbol, and place-order and record-trade run in separate
 * processes (separate adapters, none remembering what another submitted): every lookup the pipeline
 * makes carries the order's symbol, so fills are booked as trades and positions whichever process asks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimOrder,
  getOrder,
  getPosition,
  getSignal,
  insertSignals,
  listTrades,
} from '../../src/db/index.ts';
import { getExchange, registerExchangeOptions, resetExchanges } from '../../src/exchanges/configured.ts';
import { setLogDestination } from '../../src/log/index.ts';
import {
  clientOrderIdFor,
  intentOf,
  ManualOrderInput,
  placeManualOrder,
  placeSignalOrders,
  recordTrades,
  resumePendingOrder,
} from '../../src/pipeline/index.ts';
import { FakeBinance } from '../../src/testing/fake-binance/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import {
  clearClock,
  count,
  MIN,
  makeStrategy,
  pipelineContext,
  RecordingBus,
  setClock,
  useBus,
} from './helpers.ts';

const t = useTestDatabase();
const bus = new RecordingBus();
let fake: FakeBinance;
const T0 = Date.UTC(2024, 2, 5, 15, 0);

beforeAll(async () => {
  setLogDestination(() => {}, 'info');
  fake = await FakeBinance.start({ balances: { USDT: '100000' } });
  const api = `${fake.url}/api/v3`;
  // getExchange('ccxt') builds a fresh adapter from these after every resetExchanges(): a new process.
  registerExchangeOptions('ccxt', () => ({
    apiKey: fake.apiKey,
    secret: fake.secret,
    sandbox: true,
    urls: { public: api, private: api, v1: `${fake.url}/api/v1` },
    rateLimitMs: 0,
    timeoutMs: 2_000,
    recvWindowMs: 1_000,
    clockSkewMs: 100,
    retry: { maxRetries: 3, initialDelayMs: 2, maxDelayMs: 20 },
  }));
  await useBus(bus);
  setClock(T0 + MIN);
});
afterAll(async () => {
  clearClock();
  await resetExchanges();
  await fake.close();
});

const ctx = () => pipelineContext(t.sql, bus);

async function signal(symbol: string, barTime: number, side: 'buy' | 'sell', price: number) {
  const [s] = await insertSignals(t.sql, [
    { strategy: 'ccxt-trend', symbol, timeframe: '1Min', barTime, side, price },
  ]);
  return s.id;
}

describe('the pipeline on a CCXT venue (fake Binance)', () => {
  it('books a filled market order: fill → trade → position, one order at the venue', async () => {
    await makeStrategy(t.sql, {
      name: 'ccxt-trend',
      symbols: ['BTC/USDT'],
      exchange: 'ccxt',
      sizing: { type: 'fixed_qty', qty: '0.01' },
    });
    fake.setPrice('BTCUSDT', 50_000);
    const buyId = await signal('BTC/USDT', T0, 'buy', 50_000);
    const [buy] = await placeSignalOrders(ctx(), [buyId]);
    expect(buy).toMatchObject({ outcome: 'ordered', status: 'filled' });
    expect(fake.ordersByClientId(buy.clientOrderId!)).toHaveLength(1);
    expect(await getPosition(t.sql, 'ccxt-trend', 'BTC/USDT')).toMatchObject({
      qty: '0.01',
      avgPrice: '50000',
    });

    // The sale is placed by another process: its adapter never saw the buy.
    await resetExchanges();
    fake.setPrice('BTCUSDT', 51_000);
    const sellId = await signal('BTC/USDT', T0 + MIN, 'sell', 51_000);
    setClock(T0 + 2 * MIN);
    const [sell] = await placeSignalOrders(ctx(), [sellId]);
    expect(sell).toMatchObject({ outcome: 'ordered', status: 'filled' });
    const trades = (await listTrades(t.sql, { strategy: 'ccxt-trend' })).items.reverse();
    expect(trades.map((tr) => [tr.side, tr.qty, tr.price, tr.positionAfter, tr.realizedPnl])).toEqual([
      ['buy', '0.01', '50000', '0.01', '0'],
      ['sell', '0.01', '51000', '0', '10'],
    ]);
    expect(await getPosition(t.sql, 'ccxt-trend', 'BTC/USDT')).toMatchObject({ qty: '0', realizedPnl: '10' });
    expect(bus.ofType('trades.recorded').length).toBeGreaterThanOrEqual(2);
  });

  it('record-trade in a fresh process finds the closed order by client id and symbol, and books it', async () => {
    fake.setPrice('ETHUSDT', 3_000);
    const placed = await placeManualOrder(
      ctx(),
      ManualOrderInput.parse({
        exchange: 'ccxt',
        symbol: 'ETH/USDT',
        side: 'buy',
        type: 'limit',
        limitPrice: '2900',
        qty: '0.5',
        timeInForce: 'gtc',
      }),
    );
    expect(placed.order).toMatchObject({ status: 'new' });
    const order = placed.order!;
    fake.setPrice('ETHUSDT', 2_890); // the limit is touched: the venue fills and closes the order
    expect(fake.ordersByClientId(order.clientOrderId)[0].status).toBe('FILLED');

    await resetExchanges();
    // Without the symbol a fresh adapter cannot tell a closed order from none, and says so.
    await expect((await getExchange('ccxt')).getOrderByClientId(order.clientOrderId)).rejects.toThrow(
      /without its symbol a closed one cannot be looked up/,
    );
    await resetExchanges();
    const r = await recordTrades(ctx(), { orderIds: [order.id] });
    expect(r.orders[0]).toMatchObject({ status: 'filled' });
    expect(r.tradeIds).toHaveLength(1);
    expect(await getOrder(t.sql, order.id)).toMatchObject({ status: 'filled', filledQty: '0.5' });
    expect(await getPosition(t.sql, 'manual', 'ETH/USDT')).toMatchObject({ qty: '0.5', avgPrice: '2890' });
  });

  it('a claim resumed after a crash adopts its own order, whose size the venue rounded to its lot step', async () => {
    await resetExchanges();
    fake.setPrice('BTCUSDT', 30_001);
    const barTime = T0 + 5 * MIN;
    const id = await signal('BTC/USDT', barTime, 'buy', 30_001);
    const s = (await getSignal(t.sql, id))!;
    // What fixed_notional sizing makes of $1000 at 30001 (6 decimals); Binance's lot step is 0.00001.
    const { order } = await claimOrder(t.sql, {
      clientOrderId: clientOrderIdFor('ccxt-trend', 'BTC/USDT', s.barTime, 'buy'),
      exchange: 'ccxt',
      strategy: 'ccxt-trend',
      signalId: id,
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      timeInForce: 'gtc',
      qty: '0.033332',
    });
    // The crashed process reached the venue (which took 0.03333), then died before storing the answer.
    await (await getExchange('ccxt')).submitOrder(intentOf(order, '30001'));
    await resetExchanges();
    const r = await resumePendingOrder(ctx(), order);
    expect(r.outcome).toBe('ordered');
    expect(fake.ordersByClientId(order.clientOrderId)).toHaveLength(1);
    expect(await getOrder(t.sql, order.id)).toMatchObject({ status: 'filled', filledQty: '0.03333' });
  });

  it('a different order under our client id is not adopted: the claim fails, nothing is sent', async () => {
    await resetExchanges();
    fake.setPrice('BTCUSDT', 40_000);
    const { order } = await claimOrder(t.sql, {
      clientOrderId: 'wv-not-ours-0001',
      exchange: 'ccxt',
      strategy: 'manual',
      signalId: null,
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      timeInForce: 'gtc',
      qty: '0.02',
    });
    // Someone else's order on the account carries the same id: a sale of another size.
    await (await getExchange('ccxt')).submitOrder({ ...intentOf(order), side: 'sell', qty: '0.001' });
    await resetExchanges();
    const r = await resumePendingOrder(ctx(), order);
    expect(r.outcome).toBe('failed');
    const stored = await getOrder(t.sql, order.id);
    expect(stored).toMatchObject({ status: 'failed', errorCode: 'duplicate_client_order_id' });
    expect(stored?.errorMessage).toMatch(
      /different order .* \(sell 0\.001 BTC\/USDT; ours: buy 0\.02 BTC\/USDT\)/,
    );
    expect(stored?.exchangeOrderId).toBeNull();
    expect(fake.ordersByClientId('wv-not-ours-0001')).toHaveLength(1);
    expect(await count(t.sql, 'fills', `order_id = ${order.id}`)).toBe(0);
  });
});
