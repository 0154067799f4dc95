/**
 * One-cancels-other exits on Alpaca: the adapter, through the real SDK, against the fake Alpaca over HTTP.
 * An OCO sell for a held position is one order to Weaver (the take-profit limit as the parent, the
 * stop-loss as its leg), holds the quantity once, fills at whichever leg trades first and cancels the other.
 */
import { trading } from '@alpacahq/alpaca-trade-api/rest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlpacaExchange } from '../../src/exchanges/alpaca/index.ts';
import { toExchangeOrder, toOrderRequest } from '../../src/exchanges/alpaca/map.ts';
import { ExchangeError } from '../../src/exchanges/types.ts';
import { FakeAlpaca } from '../../src/testing/fake-alpaca/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { alpacaFor, intent } from './alpaca-helpers.ts';

// Adapters count retries and errors in the process's database (/metrics): a private one.
useTestDatabase();
let fake: FakeAlpaca;
let alpaca: AlpacaExchange;

beforeEach(async () => {
  fake = await FakeAlpaca.start({ cash: '100000' });
  alpaca = await alpacaFor(fake);
});
afterEach(async () => {
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

/** Buys 10 AAPL at 200. */
async function hold10(): Promise<void> {
  fake.setPrice('AAPL', 200);
  const buy = await alpaca.submitOrder(intent({ symbol: 'AAPL', qty: '10' }));
  expect(buy).toMatchObject({ status: 'filled', filledQty: '10', filledAvgPrice: '200' });
}

const ocoSell = (p: { limitPrice?: string; stopPrice?: string; qty?: string } = {}) =>
  intent({
    symbol: 'AAPL',
    side: 'sell',
    type: 'limit',
    timeInForce: 'gtc',
    orderClass: 'oco',
    qty: p.qty ?? '10',
    limitPrice: p.limitPrice ?? '220',
    stopPrice: p.stopPrice ?? '190',
  });

/** The venue's parent order and its stop-loss leg for a client order id. */
function atVenue(clientOrderId: string): { parent: trading.Order; leg: trading.OrderLeg } {
  const [parent] = fake.orders(clientOrderId);
  expect(parent).toBeDefined();
  expect(parent.legs).toHaveLength(1);
  return { parent, leg: (parent.legs as trading.OrderLeg[])[0] };
}

const aaplQty = async (): Promise<string | undefined> =>
  (await alpaca.getPositions()).find((p) => p.symbol === 'AAPL')?.qty;

describe('OCO exits on Alpaca', () => {
  it('advertises OCO and sends the documented request shape', () => {
    expect(alpaca.capabilities.oco).toBe(true);
    const i = ocoSell({ limitPrice: '325', stopPrice: '250' });
    const wire = JSON.parse(JSON.stringify(trading.PostOrderRequestToJSON(toOrderRequest(i))));
    expect(wire).toEqual({
      symbol: 'AAPL',
      side: 'sell',
      type: 'limit',
      qty: '10',
      time_in_force: 'gtc',
      order_class: 'oco',
      take_profit: { limit_price: '325' },
      stop_loss: { stop_price: '250' },
      client_order_id: i.clientOrderId,
    });
  });

  it('rests as one order, holds the quantity once, and stops out below the stop', async () => {
    await hold10();
    const i = ocoSell({ limitPrice: '220.004', stopPrice: '189.996' });
    const o = await alpaca.submitOrder(i);
    // Both prices meet the tick: a sell's take profit rounds up, the stop to the nearest cent.
    expect(o).toMatchObject({
      clientOrderId: i.clientOrderId,
      orderClass: 'oco',
      side: 'sell',
      type: 'limit',
      timeInForce: 'gtc',
      qty: '10',
      limitPrice: '220.01',
      stopPrice: '190',
      status: 'new',
      filledQty: '0',
      filledAvgPrice: null,
      filledAt: null,
    });

    // At the venue: the take-profit limit is the parent, the stop is its leg with its own ids.
    const { parent, leg } = atVenue(i.clientOrderId);
    expect(parent).toMatchObject({ id: o.id, orderClass: 'oco', type: 'limit', limitPrice: '220.01' });
    expect(leg).toMatchObject({
      orderClass: 'oco',
      type: 'stop',
      stopPrice: '190',
      qty: '10',
      side: 'sell',
      timeInForce: 'gtc',
      status: 'new',
    });
    expect(leg.id).not.toBe(parent.id);
    expect(leg.clientOrderId).not.toBe(parent.clientOrderId);

    // Open orders: the pair once, under the parent's id, asked for nested.
    const open = await alpaca.getOpenOrders();
    expect(open.map((x) => x.id)).toEqual([o.id]);
    expect(open[0]).toMatchObject({ orderClass: 'oco', limitPrice: '220.01', stopPrice: '190' });
    expect(fake.requestsTo('GET /v2/orders').at(-1)?.query).toMatchObject({ nested: 'true' });
    // Without nested the venue lists the leg as its own order, as Alpaca does.
    const flat = fake.trading.listOrders(new URLSearchParams({ status: 'open', direction: 'asc' }));
    expect(flat.map((x) => x.id)).toEqual([parent.id, leg.id]);

    // The pair holds all 10 shares, once: nothing is left to sell, and nothing is double counted.
    const err = await rejection(alpaca.submitOrder(intent({ symbol: 'AAPL', side: 'sell', qty: '10' })));
    expect(err).toMatchObject({ code: 'insufficient_funds', status: 403 });
    expect(err.message).toMatch(/insufficient qty available .*available: 0\)/);

    // Above the stop and below the take profit nothing trades.
    fake.setPrice('AAPL', 195);
    expect((await alpaca.getOrderByClientId(i.clientOrderId))?.status).toBe('new');

    fake.setPrice('AAPL', 185.5);
    const done = await alpaca.getOrderByClientId(i.clientOrderId);
    expect(done).toMatchObject({
      id: o.id,
      orderClass: 'oco',
      status: 'filled',
      filledQty: '10',
      filledAvgPrice: '185.5',
      limitPrice: '220.01',
      stopPrice: '190',
    });
    expect(done?.filledAt).not.toBeNull();
    expect(leg.status).toBe('filled');
    expect(parent.status).toBe('canceled');
    expect(await alpaca.getOrder(o.id)).toMatchObject({ status: 'filled', filledQty: '10' });
    expect(await aaplQty()).toBeUndefined();
    expect((await alpaca.getAccount()).cash).toBe(String(100000 - 2000 + 1855));
    expect((await alpaca.getOpenOrders()).map((x) => x.id)).not.toContain(o.id);
  });

  it('takes profit when the price rises to the limit, canceling the stop', async () => {
    await hold10();
    const i = ocoSell();
    const o = await alpaca.submitOrder(i);
    fake.setPrice('AAPL', 215);
    expect((await alpaca.getOrderByClientId(i.clientOrderId))?.status).toBe('new');
    fake.setPrice('AAPL', 220);
    expect(await alpaca.getOrderByClientId(i.clientOrderId)).toMatchObject({
      id: o.id,
      orderClass: 'oco',
      status: 'filled',
      filledQty: '10',
      filledAvgPrice: '220',
    });
    const { parent, leg } = atVenue(i.clientOrderId);
    expect(parent.status).toBe('filled');
    expect(leg.status).toBe('canceled');
    // The canceled stop does not trade later.
    fake.setPrice('AAPL', 150);
    expect(leg.status).toBe('canceled');
    expect(await aaplQty()).toBeUndefined();
  });

  it('sums a partial take profit and the stop-out into one fill', async () => {
    await hold10();
    const i = ocoSell();
    await alpaca.submitOrder(i);
    const { parent, leg } = atVenue(i.clientOrderId);
    fake.trading.fill(parent, '4', '221');
    expect(await alpaca.getOrderByClientId(i.clientOrderId)).toMatchObject({
      status: 'partially_filled',
      filledQty: '4',
      filledAvgPrice: '221',
    });
    // 6 shares left, all still held by the pair.
    const err = await rejection(alpaca.submitOrder(intent({ symbol: 'AAPL', side: 'sell', qty: '1' })));
    expect(err.message).toMatch(/available: 0\)/);
    fake.setPrice('AAPL', 185);
    expect(leg).toMatchObject({ status: 'filled', filledQty: '6' });
    expect(parent.status).toBe('canceled');
    expect(await alpaca.getOrderByClientId(i.clientOrderId)).toMatchObject({
      status: 'filled',
      filledQty: '10',
      // (4 × 221 + 6 × 185) / 10
      filledAvgPrice: '199.4',
    });
    expect(await aaplQty()).toBeUndefined();
  });

  it('cancels the whole pair by the parent id and frees the quantity', async () => {
    await hold10();
    const i = ocoSell();
    const o = await alpaca.submitOrder(i);
    await alpaca.cancelOrder(o.id);
    await alpaca.cancelOrder(o.id);
    expect(await alpaca.getOrderByClientId(i.clientOrderId)).toMatchObject({
      orderClass: 'oco',
      status: 'canceled',
      filledQty: '0',
    });
    const { parent, leg } = atVenue(i.clientOrderId);
    expect(parent.status).toBe('canceled');
    expect(leg.status).toBe('canceled');
    expect(await alpaca.getOpenOrders()).toEqual([]);
    // Neither leg trades any more, and the 10 shares can be sold.
    fake.setPrice('AAPL', 180);
    expect(leg.status).toBe('canceled');
    const sell = await alpaca.submitOrder(intent({ symbol: 'AAPL', side: 'sell', qty: '10' }));
    expect(sell).toMatchObject({ status: 'filled', filledQty: '10', filledAvgPrice: '180' });
  });

  it('is refused when a leg would trade at once, or the request cannot be an OCO', async () => {
    await hold10();
    const stopAbove = ocoSell({ limitPrice: '220', stopPrice: '205' });
    const err = await rejection(alpaca.submitOrder(stopAbove));
    expect(err).toMatchObject({ code: 'invalid_order', status: 422 });
    expect(err.message).toMatch(/stop_loss\.stop_price must be < 200/);
    expect(fake.orders(stopAbove.clientOrderId)).toHaveLength(0);

    const tpBelow = ocoSell({ limitPrice: '199', stopPrice: '190' });
    expect((await rejection(alpaca.submitOrder(tpBelow))).message).toMatch(
      /take_profit\.limit_price must be > 200/,
    );

    // More than is held: the venue's qty check.
    const tooMany = await rejection(alpaca.submitOrder(ocoSell({ qty: '11' })));
    expect(tooMany).toMatchObject({ code: 'insufficient_funds', status: 403 });

    // Caught before sending: the adapter knows these rules (no HTTP status).
    const crossed = await rejection(alpaca.submitOrder(ocoSell({ limitPrice: '210', stopPrice: '215' })));
    expect(crossed).toMatchObject({ code: 'invalid_order', status: undefined });
    expect(crossed.message).toMatch(/take profit.*above stopPrice/);
    const fractional = await rejection(alpaca.submitOrder(ocoSell({ qty: '2.5' })));
    expect(fractional.message).toMatch(/whole shares/);
    const crypto = await rejection(
      alpaca.submitOrder({ ...ocoSell(), symbol: 'BTC/USD', limitPrice: '70000', stopPrice: '60000' }),
    );
    expect(crypto.message).toMatch(/oco is not offered for crypto/);
    expect(fake.orders().filter((x) => x.orderClass === 'oco')).toHaveLength(0);
  });
});

describe('mapping an Alpaca OCO order', () => {
  const base = {
    symbol: 'AAPL',
    side: 'sell',
    timeInForce: 'gtc',
    qty: '10',
    notional: null,
    orderClass: 'oco',
    createdAt: new Date('2024-03-05T15:00:00Z'),
    submittedAt: new Date('2024-03-05T15:00:00Z'),
    updatedAt: new Date('2024-03-05T15:00:00Z'),
    filledQty: '0',
    filledAvgPrice: null,
    filledAt: null,
  } as const;
  const order = (parent: Partial<trading.Order>, leg: Partial<trading.OrderLeg>): trading.Order =>
    ({
      ...base,
      id: 'p',
      clientOrderId: 'cp',
      type: 'limit',
      limitPrice: '220',
      stopPrice: null,
      status: 'new',
      ...parent,
      legs: [
        { ...base, id: 'l', clientOrderId: 'cl', type: 'stop', stopPrice: '190', status: 'new', ...leg },
      ],
    }) as trading.Order;

  it('reports the parent status while a leg works ("held" counts as working)', () => {
    expect(toExchangeOrder(order({}, { status: 'held' }))).toMatchObject({
      id: 'p',
      clientOrderId: 'cp',
      orderClass: 'oco',
      status: 'new',
      limitPrice: '220',
      stopPrice: '190',
      filledQty: '0',
    });
    expect(toExchangeOrder(order({ status: 'accepted' }, { status: 'held' })).status).toBe('accepted');
  });

  it('ends canceled, or expired when the pair expired', () => {
    expect(toExchangeOrder(order({ status: 'canceled' }, { status: 'canceled' })).status).toBe('canceled');
    expect(toExchangeOrder(order({ status: 'expired' }, { status: 'expired' })).status).toBe('expired');
  });

  it('takes the fill, its price and time from the leg that filled', () => {
    const filledAt = new Date('2024-03-05T16:00:00Z');
    const o = toExchangeOrder(
      order(
        { status: 'canceled' },
        { status: 'filled', filledQty: '10', filledAvgPrice: '189.5', filledAt, updatedAt: filledAt },
      ),
    );
    expect(o).toMatchObject({
      status: 'filled',
      filledQty: '10',
      filledAvgPrice: '189.5',
      filledAt: filledAt.toISOString(),
      updatedAt: filledAt.toISOString(),
    });
  });

  it('is partially filled while some filled and a leg still works, canceled once none does', () => {
    expect(
      toExchangeOrder(order({ status: 'partially_filled', filledQty: '3', filledAvgPrice: '220' }, {})),
    ).toMatchObject({ status: 'partially_filled', filledQty: '3', filledAvgPrice: '220' });
    expect(
      toExchangeOrder(
        order({ status: 'canceled', filledQty: '3', filledAvgPrice: '220' }, { status: 'canceled' }),
      ),
    ).toMatchObject({ status: 'canceled', filledQty: '3' });
  });

  it('leaves simple orders without an order class', () => {
    const simple = { ...order({}, {}), orderClass: 'simple', legs: null } as trading.Order;
    expect(toExchangeOrder(simple).orderClass).toBeUndefined();
  });
});
