/**
 * The money rule.
 *
 * - Prices, quantities, cash and P&L that belong to an account are *decimal strings* wherever they cross a
 *   boundary (exchange APIs, the bus, HTTP) and Postgres `numeric` at rest. Arithmetic on them goes through
 *   this module (big.js), never through JS numbers, so 0.1 + 0.2 is 0.3 and a position never drifts.
 * - Market data (bars) and everything inside the backtest hot loop are JS numbers (float64): they are
 *   observations and simulations, not balances, and typed arrays need numbers.
 * - The crossing point is explicit: `toNumber` leaves the decimal world, `fromNumber` enters it (rounded to
 *   `MAX_SCALE` places so float noise such as 0.30000000000000004 never reaches a balance).
 */
import Big from 'big.js';

// Plain notation for every magnitude a balance can have; big.js would otherwise switch to exponents.
Big.NE = -30;
Big.PE = 40;
Big.DP = 20;

export const MAX_SCALE = 10;

export type Decimal = string;
type DecimalLike = Decimal | number | Big;

export const DECIMAL_PATTERN = /^-?(0|[1-9]\d*)(\.\d+)?$/;

export function isDecimal(value: string): boolean {
  return DECIMAL_PATTERN.test(value);
}

function big(value: DecimalLike): Big {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return new Big(value).round(MAX_SCALE);
  }
  return value instanceof Big ? value : new Big(value);
}

/** Canonical decimal string: no exponent, no trailing zeros, no "-0". */
export function dec(value: DecimalLike): Decimal {
  const s = big(value).toString();
  return s === '-0' ? '0' : s;
}

export const fromNumber = (value: number): Decimal => dec(value);
export const toNumber = (value: DecimalLike): number => Number(big(value).toString());

export const add = (a: DecimalLike, b: DecimalLike): Decimal => dec(big(a).plus(big(b)));
export const sub = (a: DecimalLike, b: DecimalLike): Decimal => dec(big(a).minus(big(b)));
export const mul = (a: DecimalLike, b: DecimalLike): Decimal => dec(big(a).times(big(b)));
export const neg = (a: DecimalLike): Decimal => dec(big(a).times(-1));
export const abs = (a: DecimalLike): Decimal => dec(big(a).abs());
export function div(a: DecimalLike, b: DecimalLike, scale = MAX_SCALE): Decimal {
  return dec(big(a).div(big(b)).round(scale));
}
export const cmp = (a: DecimalLike, b: DecimalLike): -1 | 0 | 1 => big(a).cmp(big(b)) as -1 | 0 | 1;
export const eq = (a: DecimalLike, b: DecimalLike): boolean => cmp(a, b) === 0;
export const isZero = (a: DecimalLike): boolean => big(a).eq(0);
export const isNegative = (a: DecimalLike): boolean => big(a).lt(0);
export const isPositive = (a: DecimalLike): boolean => big(a).gt(0);
export const min = (a: DecimalLike, b: DecimalLike): Decimal => (cmp(a, b) <= 0 ? dec(a) : dec(b));
export const max = (a: DecimalLike, b: DecimalLike): Decimal => (cmp(a, b) >= 0 ? dec(a) : dec(b));
export const sum = (values: readonly DecimalLike[]): Decimal =>
  dec(values.reduce<Big>((acc, v) => acc.plus(big(v)), new Big(0)));

/** Round to a step (a venue's tick or lot size), towards zero so an order never exceeds what was sized. */
export function roundDownToStep(value: DecimalLike, step: DecimalLike): Decimal {
  const s = big(step);
  if (s.lte(0)) return dec(value);
  return dec(big(value).div(s).round(0, Big.roundDown).times(s));
}

/** Round to `places` decimals, half away from zero. */
export function round(value: DecimalLike, places: number): Decimal {
  return dec(big(value).round(places, Big.roundHalfUp));
}
