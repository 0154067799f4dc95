/**
 * How the simulated exchange decides whether, and at what price, an order trades on one bar. Pure.
 *
 * The rule is "never better than the bar allowed": a fill price is always a price the bar traded
 * (its open, or a limit/stop level inside its range), and where a bar's path is unknown the order gets
 * the worse of the possibilities.
 *
 *   market            the bar's open
 *   buy limit L       low <= L          at min(open, L)
 *   sell limit L      high >= L         at max(open, L)
 *   buy stop S        high >= S         at max(open, S)    (a gap above S fills at the open)
 *   sell stop S       low <= S          at min(open, S)
 *   stop_limit        triggers as a stop; then a limit. Triggered at the open (gap) → the limit applies to
 *                     the whole bar; triggered inside the bar at S → fills at S when S is within the limit,
 *                     otherwise rests as a limit from the next bar (the bar's path after S is unknown).
 *   trailing_stop     sell: stop = peak × (1 − p%), peak starting at the reference price; checked against
 *                     the bar before the bar's high raises the peak (intrabar order unknown). Buy mirrors.
 *   oco (exit)        sell: a stop S and a take-profit limit L. A gap through either fills at the open;
 *                     inside the bar the stop is assumed first (low <= S at S), then the limit (high >= L
 *                     at L): the backtester's exit rule (backtest/engine.ts checkExits). Buy mirrors.
 */
import type { OrderType, Side } from '../../schemas/index.ts';

export interface MatchBar {
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface MatchOrder {
  side: Side;
  type: OrderType;
  limitPrice: number | null;
  stopPrice: number | null;
  trailPercent: number | null;
  /** A stop (or stop_limit) that triggered on an earlier bar. */
  triggered: boolean;
  /** Trailing stop's best price so far (peak for sells, trough for buys). */
  trailExtreme: number | null;
  /** A one-cancels-other exit: `limitPrice` the take-profit, `stopPrice` the stop. */
  oco?: boolean;
}

export interface MatchResult {
  /** The price it trades at on this bar, or null. */
  price: number | null;
  /** Whether the fill price is the order's own level (limit/stop) rather than the bar's open: kept exact. */
  atLevel: 'limit' | 'stop' | null;
  triggered: boolean;
  trailExtreme: number | null;
}

function limitFill(
  side: Side,
  limit: number,
  bar: MatchBar,
): { price: number; atLevel: 'limit' | null } | null {
  if (side === 'buy') {
    if (bar.low > limit) return null;
    return bar.open <= limit ? { price: bar.open, atLevel: null } : { price: limit, atLevel: 'limit' };
  }
  if (bar.high < limit) return null;
  return bar.open >= limit ? { price: bar.open, atLevel: null } : { price: limit, atLevel: 'limit' };
}

/** Whether a stop triggers on this bar, and whether at the open (a gap through the level). */
function stopTrigger(side: Side, stop: number, bar: MatchBar): 'open' | 'inside' | null {
  if (side === 'buy') {
    if (bar.open >= stop) return 'open';
    return bar.high >= stop ? 'inside' : null;
  }
  if (bar.open <= stop) return 'open';
  return bar.low <= stop ? 'inside' : null;
}

/** Which side of a one-cancels-other exit trades on this bar, and at what price. */
function ocoFill(o: MatchOrder, bar: MatchBar): Pick<MatchResult, 'price' | 'atLevel'> {
  const stop = o.stopPrice!;
  const limit = o.limitPrice!;
  const sell = o.side === 'sell';
  if (sell ? bar.open <= stop || bar.open >= limit : bar.open >= stop || bar.open <= limit)
    return { price: bar.open, atLevel: null };
  if (sell ? bar.low <= stop : bar.high >= stop) return { price: stop, atLevel: 'stop' };
  if (sell ? bar.high >= limit : bar.low <= limit) return { price: limit, atLevel: 'limit' };
  return { price: null, atLevel: null };
}

export function matchOnBar(o: MatchOrder, bar: MatchBar): MatchResult {
  const keep = { triggered: o.triggered, trailExtreme: o.trailExtreme };
  if (o.oco) return { ...ocoFill(o, bar), ...keep };
  switch (o.type) {
    case 'market':
      return { price: bar.open, atLevel: null, ...keep };
    case 'limit': {
      const f = limitFill(o.side, o.limitPrice!, bar);
      return { price: f?.price ?? null, atLevel: f?.atLevel ?? null, ...keep };
    }
    case 'stop': {
      if (o.triggered) return { price: bar.open, atLevel: null, ...keep };
      const t = stopTrigger(o.side, o.stopPrice!, bar);
      if (!t) return { price: null, atLevel: null, ...keep };
      return t === 'open'
        ? { price: bar.open, atLevel: null, triggered: true, trailExtreme: o.trailExtreme }
        : { price: o.stopPrice!, atLevel: 'stop', triggered: true, trailExtreme: o.trailExtreme };
    }
    case 'stop_limit': {
      const limit = o.limitPrice!;
      if (o.triggered) {
        const f = limitFill(o.side, limit, bar);
        return { price: f?.price ?? null, atLevel: f?.atLevel ?? null, ...keep };
      }
      const t = stopTrigger(o.side, o.stopPrice!, bar);
      if (!t) return { price: null, atLevel: null, ...keep };
      if (t === 'open') {
        const f = limitFill(o.side, limit, bar);
        return {
          price: f?.price ?? null,
          atLevel: f?.atLevel ?? null,
          triggered: true,
          trailExtreme: o.trailExtreme,
        };
      }
      const stop = o.stopPrice!;
      const withinLimit = o.side === 'buy' ? stop <= limit : stop >= limit;
      return withinLimit
        ? { price: stop, atLevel: 'stop', triggered: true, trailExtreme: o.trailExtreme }
        : { price: null, atLevel: null, triggered: true, trailExtreme: o.trailExtreme };
    }
    case 'trailing_stop': {
      // Once triggered (and partly filled for lack of volume) the rest trades as a market order.
      if (o.triggered) return { price: bar.open, atLevel: null, ...keep };
      const p = o.trailPercent! / 100;
      const extreme = o.trailExtreme ?? bar.open;
      if (o.side === 'sell') {
        const stop = extreme * (1 - p);
        if (bar.open <= stop)
          return { price: bar.open, atLevel: null, triggered: true, trailExtreme: extreme };
        if (bar.low <= stop) return { price: stop, atLevel: 'stop', triggered: true, trailExtreme: extreme };
        return { price: null, atLevel: null, triggered: false, trailExtreme: Math.max(extreme, bar.high) };
      }
      const stop = extreme * (1 + p);
      if (bar.open >= stop) return { price: bar.open, atLevel: null, triggered: true, trailExtreme: extreme };
      if (bar.high >= stop) return { price: stop, atLevel: 'stop', triggered: true, trailExtreme: extreme };
      return { price: null, atLevel: null, triggered: false, trailExtreme: Math.min(extreme, bar.low) };
    }
  }
}
