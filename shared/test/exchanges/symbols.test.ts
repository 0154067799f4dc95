/** Symbols, timeframes and quantities normalised in one place; the retry delays of resilience.ts. */
import { describe, expect, it } from 'vitest';
import { retryDelay, withRetryAfter } from '../../src/exchanges/resilience.ts';
import {
  conformOrder,
  fixedTick,
  fromVenueSymbol,
  type InstrumentRules,
  isCryptoSymbol,
  parseTimeframe,
  roundToStep,
  toAlpacaSymbol,
  toAlpacaTimeframe,
  toCcxtTimeframe,
  usEquityTick,
} from '../../src/exchanges/symbols.ts';
import { ExchangeError } from '../../src/exchanges/types.ts';
import { OrderIntent, TIMEFRAMES } from '../../src/schemas/index.ts';

const order = (p: Record<string, unknown>) =>
  OrderIntent.parse({ clientOrderId: 'c1', strategy: 's', symbol: 'BTC/USDT', side: 'buy', ...p });

const btc: InstrumentRules = {
  symbol: 'BTC/USDT',
  fractionable: true,
  qtyStep: '0.00001',
  minQty: '0.0001',
  minNotional: '5',
  notionalStep: '0.01',
  priceTick: fixedTick('0.01'),
};

const invalid = (fn: () => unknown): ExchangeError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ExchangeError);
    expect((e as ExchangeError).code).toBe('invalid_order');
    return e as ExchangeError;
  }
  throw new Error('expected invalid_order');
};

describe('symbols', () => {
  it('keeps stocks and pairs, and splits glued venue pairs at their quote', () => {
    expect(isCryptoSymbol('BTC/USD')).toBe(true);
    expect(isCryptoSymbol('BRK.B')).toBe(false);
    expect(fromVenueSymbol('BTCUSD', { crypto: true })).toBe('BTC/USD');
    expect(fromVenueSymbol('ETHUSDT', { crypto: true })).toBe('ETH/USDT');
    expect(fromVenueSymbol('SOLUSDC', { crypto: true })).toBe('SOL/USDC');
    expect(fromVenueSymbol('btc/usd')).toBe('BTC/USD');
    // a stock is never split, even one that ends like a currency
    expect(fromVenueSymbol('AUSD')).toBe('AUSD');
    expect(toAlpacaSymbol(' aapl ')).toBe('AAPL');
  });
});

describe('timeframes', () => {
  it('maps every Weaver timeframe to Alpaca and CCXT, and reads either back', () => {
    for (const tf of TIMEFRAMES) {
      expect(parseTimeframe(toAlpacaTimeframe(tf))).toBe(tf);
      expect(parseTimeframe(toCcxtTimeframe(tf))).toBe(tf);
    }
    expect(toCcxtTimeframe('4Hour')).toBe('4h');
    expect(parseTimeframe('1min')).toBe('1Min');
    expect(parseTimeframe('1D')).toBe('1Day');
    expect(parseTimeframe('1M')).toBeNull(); // a month on CCXT: not a Weaver timeframe
    expect(parseTimeframe('7Min')).toBeNull();
  });
});

describe('quantities and prices', () => {
  it('rounds to a step in the asked direction', () => {
    expect(roundToStep('1.23456', '0.001', 'down')).toBe('1.234');
    expect(roundToStep('1.2341', '0.001', 'up')).toBe('1.235');
    expect(roundToStep('1.2345', '0.001', 'nearest')).toBe('1.235');
    expect(roundToStep('17', '5', 'down')).toBe('15');
    expect(roundToStep('0.3', '0', 'down')).toBe('0.3');
  });

  it('ticks US equities at a cent, sub-penny below $1', () => {
    expect(usEquityTick('12.345')).toBe('0.01');
    expect(usEquityTick('0.51234')).toBe('0.0001');
  });

  it('conforms an order to the venue: lot step down, buy limit down, sell limit up, stop nearest', () => {
    expect(
      conformOrder(order({ qty: '0.0123456', type: 'limit', limitPrice: '50000.129' }), btc),
    ).toMatchObject({
      qty: '0.01234',
      limitPrice: '50000.12',
    });
    expect(
      conformOrder(order({ side: 'sell', qty: '0.01', type: 'limit', limitPrice: '50000.121' }), btc)
        .limitPrice,
    ).toBe('50000.13');
    expect(
      conformOrder(
        order({ side: 'sell', qty: '0.01', type: 'stop_limit', stopPrice: '49000.125', limitPrice: '48999' }),
        btc,
      ).stopPrice,
    ).toBe('49000.13');
  });

  it('refuses what the venue would, naming the field', () => {
    expect(invalid(() => conformOrder(order({ qty: '0.000001' }), btc)).message).toMatch(
      /^qty 0.000001 rounds to 0/,
    );
    expect(invalid(() => conformOrder(order({ qty: '0.00005' }), btc)).message).toMatch(
      /^qty .* below BTC\/USDT's minimum order size/,
    );
    expect(
      invalid(() => conformOrder(order({ qty: '0.0001', referencePrice: '40000' }), btc)).message,
    ).toMatch(/^qty order value 4 is below BTC\/USDT's minimum 5/);
    expect(invalid(() => conformOrder(order({ notional: '4' }), btc)).message).toMatch(
      /^notional order value 4/,
    );
    const whole: InstrumentRules = {
      ...btc,
      symbol: 'GME',
      fractionable: false,
      qtyStep: '1',
      minQty: '0',
      minNotional: '0',
    };
    expect(conformOrder(order({ symbol: 'GME', qty: '3.7' }), whole).qty).toBe('3');
    expect(invalid(() => conformOrder(order({ symbol: 'GME', notional: '100' }), whole)).message).toMatch(
      /^notional/,
    );
  });
});

describe('retry delays', () => {
  const o = { maxRetries: 5, initialDelayMs: 100, maxDelayMs: 1_000 };
  it('grow exponentially with jitter, capped', () => {
    expect(retryDelay(o, 1, undefined, () => 0)).toBe(50);
    expect(retryDelay(o, 1, undefined, () => 1)).toBe(100);
    expect(retryDelay(o, 3, undefined, () => 1)).toBe(400);
    expect(retryDelay(o, 10, undefined, () => 1)).toBe(1_000);
    const spread = new Set(Array.from({ length: 20 }, () => retryDelay(o, 4)));
    expect(spread.size).toBeGreaterThan(1);
  });
  it("honour a venue's Retry-After as a floor, up to a minute", () => {
    const err = withRetryAfter(new ExchangeError('rate_limited', '429'), 3_000);
    expect(retryDelay(o, 1, err, () => 0)).toBe(3_000);
    expect(retryDelay(o, 1, withRetryAfter(new ExchangeError('rate_limited', '429'), 600_000))).toBe(60_000);
  });
});
