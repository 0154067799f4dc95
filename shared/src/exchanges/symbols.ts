/**
 * One home for how Weaver's symbols, timeframes and quantities map onto each venue.
 *
 * Weaver's canonical symbol is what the schemas accept: a stock ticker (`AAPL`, `BRK.B`) or a crypto pair
 * `BASE/QUOTE` (`BTC/USD` on Alpaca, `BTC/USDT` on a CCXT venue). Venues echo symbols in their own forms
 * (Alpaca reports crypto positions as `BTCUSD`), so everything read from a venue passes through here.
 */
import Big from 'big.js';
import { dec, isPositive } from '../money/index.ts';
import { type OrderIntent, TIMEFRAMES, type Timeframe } from '../schemas/index.ts';
import { ExchangeError } from './types.ts';

/** Quote currencies a venue may glue to a base without a slash, longest first so `USDT` beats `USD`. */
const KNOWN_QUOTES = ['USDT', 'USDC', 'BUSD', 'FDUSD', 'USD', 'EUR', 'GBP', 'BTC', 'ETH'] as const;

/** True for a crypto pair (`BTC/USD`); stocks never contain a slash. */
export function isCryptoSymbol(symbol: string): boolean {
  return symbol.includes('/');
}

/**
 * A venue's symbol to Weaver's: upper-case, and a glued crypto pair (`BTCUSD`) split at its quote
 * currency when the venue says the instrument is crypto.
 */
export function fromVenueSymbol(symbol: string, opts: { crypto?: boolean } = {}): string {
  const s = symbol.trim().toUpperCase();
  if (s.includes('/') || !opts.crypto) return s;
  for (const q of KNOWN_QUOTES) {
    if (s.length > q.length && s.endsWith(q)) return `${s.slice(0, -q.length)}/${q}`;
  }
  return s;
}

/** Weaver's symbol as Alpaca's order and data endpoints take it: stocks as-is, crypto as `BTC/USD`. */
export function toAlpacaSymbol(symbol: string): string {
  return symbol.trim().toUpperCase();
}

/** Splits a pair; a stock has no quote. */
export function splitPair(symbol: string): { base: string; quote: string | null } {
  const [base, quote] = symbol.split('/');
  return { base, quote: quote ?? null };
}

// ---------------------------------------------------------------------------------------------------
// Timeframes

const ALPACA_TIMEFRAME: Record<Timeframe, string> = {
  '1Min': '1Min',
  '5Min': '5Min',
  '15Min': '15Min',
  '30Min': '30Min',
  '1Hour': '1Hour',
  '4Hour': '4Hour',
  '1Day': '1Day',
  '1Week': '1Week',
};

const CCXT_TIMEFRAME: Record<Timeframe, string> = {
  '1Min': '1m',
  '5Min': '5m',
  '15Min': '15m',
  '30Min': '30m',
  '1Hour': '1h',
  '4Hour': '4h',
  '1Day': '1d',
  '1Week': '1w',
};

export const toAlpacaTimeframe = (tf: Timeframe): string => ALPACA_TIMEFRAME[tf];
export const toCcxtTimeframe = (tf: Timeframe): string => CCXT_TIMEFRAME[tf];

const TIMEFRAME_ALIASES: Record<string, Timeframe> = Object.fromEntries(
  TIMEFRAMES.flatMap((tf) => [
    [tf.toLowerCase(), tf],
    [CCXT_TIMEFRAME[tf], tf],
  ]),
);
Object.assign(TIMEFRAME_ALIASES, {
  '1min': '1Min',
  '1m': '1Min',
  '60m': '1Hour',
  '1h': '1Hour',
  '1d': '1Day',
  d: '1Day',
});

/**
 * A timeframe as a user or a venue writes it (`1Min`, `1m`, `1h`, `1Day`, `1d`) to Weaver's, or null.
 * Case matters only for `1M` (a month in CCXT), which Weaver does not trade, so it is rejected.
 */
export function parseTimeframe(input: string): Timeframe | null {
  const t = input.trim();
  if (t === '1M') return null;
  return TIMEFRAME_ALIASES[t.toLowerCase()] ?? TIMEFRAME_ALIASES[t] ?? null;
}

// ---------------------------------------------------------------------------------------------------
// Quantities and prices

/**
 * What a venue allows for one instrument, as decimal strings. A step of `0` means "any precision".
 * `priceTick` is a function because tick sizes may depend on the price (US stocks: $0.01 at or above
 * $1, $0.0001 below).
 */
export interface InstrumentRules {
  symbol: string;
  /** Smallest quantity increment. */
  qtyStep: string;
  /** Smallest quantity an order may have (0: none beyond the step). */
  minQty: string;
  /** Smallest order value in the quote currency (0: none). */
  minNotional: string;
  /** Smallest notional increment for notional (cash-amount) orders. */
  notionalStep: string;
  priceTick(price: string): string;
  /** False when only whole units trade. */
  fractionable: boolean;
}

export const fixedTick =
  (tick: string) =>
  (_price: string): string =>
    tick;

/** US equities: sub-penny prices only below $1 (Reg NMS rule 612). */
export const usEquityTick = (price: string): string => (new Big(price).gte(1) ? '0.01' : '0.0001');

type RoundMode = 'down' | 'up' | 'nearest';

/** Rounds to a multiple of `step`; `down`/`up` are toward -∞/+∞ for the positive values we round. */
export function roundToStep(value: string, step: string, mode: RoundMode): string {
  const s = new Big(step);
  if (s.lte(0)) return dec(value);
  const rm = mode === 'down' ? Big.roundDown : mode === 'up' ? Big.roundUp : Big.roundHalfUp;
  return dec(new Big(value).div(s).round(0, rm).times(s));
}

const invalid = (field: string, message: string): ExchangeError =>
  new ExchangeError('invalid_order', `${field} ${message}`);

/**
 * Applies a venue's precision and minimums to an order before it leaves, so the venue never rejects
 * it for a rounding reason: quantities are rounded down to the lot step (never more than was sized),
 * limit prices toward the conservative side (a buy never pays more, a sell never takes less than
 * asked), stop prices to the nearest tick. An order the rules cannot express throws ExchangeError
 * `invalid_order` naming the field.
 */
export function conformOrder(intent: OrderIntent, rules: InstrumentRules): OrderIntent {
  const out: OrderIntent = { ...intent };
  if (out.qty !== undefined) {
    // A venue that trades only whole units has a step of at least 1, whatever it reports.
    const step = rules.fractionable || new Big(rules.qtyStep).gte(1) ? rules.qtyStep : '1';
    const qty = roundToStep(out.qty, step, 'down');
    if (!isPositive(qty)) {
      throw invalid('qty', `${out.qty} rounds to 0 at ${rules.symbol}'s lot step ${step}`);
    }
    if (new Big(rules.minQty).gt(0) && new Big(qty).lt(rules.minQty)) {
      throw invalid('qty', `${qty} is below ${rules.symbol}'s minimum order size ${rules.minQty}`);
    }
    out.qty = qty;
  }
  if (out.notional !== undefined) {
    if (!rules.fractionable) {
      throw invalid('notional', `orders are not possible: ${rules.symbol} does not trade in fractions`);
    }
    out.notional = roundToStep(out.notional, rules.notionalStep, 'down');
  }
  if (out.limitPrice !== undefined) {
    const tick = rules.priceTick(out.limitPrice);
    out.limitPrice = roundToStep(out.limitPrice, tick, out.side === 'buy' ? 'down' : 'up');
    if (!isPositive(out.limitPrice)) throw invalid('limitPrice', `rounds to 0 at tick ${tick}`);
  }
  if (out.stopPrice !== undefined) {
    const tick = rules.priceTick(out.stopPrice);
    out.stopPrice = roundToStep(out.stopPrice, tick, 'nearest');
    if (!isPositive(out.stopPrice)) throw invalid('stopPrice', `rounds to 0 at tick ${tick}`);
  }
  const minNotional = new Big(rules.minNotional);
  if (minNotional.gt(0)) {
    const price = out.limitPrice ?? out.referencePrice;
    const value =
      out.notional !== undefined
        ? new Big(out.notional)
        : out.qty !== undefined && price !== undefined
          ? new Big(out.qty).times(price)
          : null;
    if (value?.lt(minNotional)) {
      throw invalid(
        out.notional !== undefined ? 'notional' : 'qty',
        `order value ${dec(value)} is below ${rules.symbol}'s minimum ${rules.minNotional}`,
      );
    }
  }
  return out;
}
