/**
 * The event-driven backtest engine: bar by bar over typed arrays, every symbol in one portfolio, one
 * pass. Pure (no I/O), deterministic, and allocation-free per bar: state lives in typed arrays indexed
 * by symbol, the strategy sees one reused BarView, and objects are created only for events (a fill, a
 * trade, a decision), never for a bar.
 *
 * Per bar of a symbol, in the order things happen in a session:
 *   1. a pending order is worked against the bar: market at the open (or the close with `next_close`),
 *      limit and stop when the bar's range touches them, at the open when it gaps through; day orders
 *      whose session ended expire first;
 *   2. exits (stop-loss, take-profit, trailing stop) are checked against the bar's range, pessimistically:
 *      a gap through a level fills at the open, and a bar touching both stop and target takes the stop;
 *   3. the strategy sees the bar (only this bar and the ones before) and decides; an order is queued
 *      for the next bar, or filled at this close with `fillAt: 'close'`;
 *   4. once every symbol with a bar at this instant is done, equity is marked at the closes.
 * A fill is never at a price the bar did not trade: slippage is clamped to the bar's low..high.
 */
import type { BarSeries } from '../bars/index.ts';
import { orderHintProblem, type StrategyFault } from '../strategies/guard.ts';
import { type Decision, MutableBarView, type OrderHint, type StrategyInstance } from '../strategies/types.ts';
import type {
  DecisionRecord,
  EngineConfig,
  EngineResult,
  ExitReason,
  FillRecord,
  OrderCounts,
  TradeRecord,
} from './types.ts';

/** What a strategy that failed answers for the rest of the run. */
const DISABLED: StrategyInstance = { next: () => 0 };

const MARKET = 0;
const LIMIT = 1;
const STOP = 2;
const STOP_LIMIT = 3;
const ORDER_TYPE: Record<OrderHint['type'], number> = {
  market: MARKET,
  limit: LIMIT,
  stop: STOP,
  stop_limit: STOP_LIMIT,
};
const DAY = 0;
const GTC = 1;
const DAY_MS = 86_400_000;
/** Positions smaller than this are flat (fractional quantities accumulate float dust). */
const DUST = 1e-9;

/** The union of the series' bar times, ascending, each once. */
export function mergeTimelines(series: readonly BarSeries[]): Float64Array {
  if (series.length === 1) return series[0].time.subarray(0, series[0].length);
  let total = 0;
  for (const s of series) total += s.length;
  const out = new Float64Array(total);
  const cur = new Int32Array(series.length);
  let m = 0;
  for (;;) {
    let t = Number.POSITIVE_INFINITY;
    for (let s = 0; s < series.length; s++) {
      if (cur[s] < series[s].length && series[s].time[cur[s]] < t) t = series[s].time[cur[s]];
    }
    if (t === Number.POSITIVE_INFINITY) break;
    out[m++] = t;
    for (let s = 0; s < series.length; s++)
      if (cur[s] < series[s].length && series[s].time[cur[s]] === t) cur[s]++;
  }
  return out.subarray(0, m);
}

class Simulation {
  readonly n: number;
  readonly symbols: string[];
  cash: number;
  // Positions.
  readonly pos: Float64Array;
  readonly avg: Float64Array;
  readonly lastClose: Float64Array;
  readonly firstClose: Float64Array;
  readonly hwm: Float64Array;
  readonly lwm: Float64Array;
  // The one working order per symbol, as a target position so an exit in between cannot overshoot.
  readonly ordActive: Uint8Array;
  readonly ordSide: Int8Array;
  readonly ordTarget: Float64Array;
  readonly ordType: Uint8Array;
  readonly ordLimit: Float64Array;
  readonly ordStop: Float64Array;
  readonly ordTif: Uint8Array;
  readonly ordDay: Float64Array;
  readonly ordTriggered: Uint8Array;
  // The open round trip per symbol.
  readonly tOpen: Uint8Array;
  readonly tSide: Int8Array;
  readonly tEntryTime: Float64Array;
  readonly tEntryBar: Float64Array;
  readonly tEntryValue: Float64Array;
  readonly tEntryQty: Float64Array;
  readonly tExitValue: Float64Array;
  readonly tExitQty: Float64Array;
  readonly tMaxQty: Float64Array;
  readonly tPnl: Float64Array;
  readonly tFees: Float64Array;
  readonly barIndex: Int32Array;
  /** Symbols with a position, so marking equity costs O(open positions), not O(symbols). */
  readonly openList: Int32Array;
  openCount = 0;

  readonly trades: TradeRecord[] = [];
  readonly fills: FillRecord[] = [];
  readonly decisions: DecisionRecord[] = [];
  readonly orders: OrderCounts = { submitted: 0, filled: 0, rejected: 0, expired: 0, canceled: 0 };
  fees = 0;
  tradedNotional = 0;

  private readonly slip: number;
  readonly hasExits: boolean;
  private readonly stopLoss: number;
  private readonly takeProfit: number;
  private readonly trailing: number;

  constructor(
    series: readonly BarSeries[],
    readonly cfg: EngineConfig,
  ) {
    const n = series.length;
    this.n = n;
    this.symbols = series.map((s) => s.symbol);
    this.cash = cfg.cash;
    const f64 = () => new Float64Array(n);
    this.pos = f64();
    this.avg = f64();
    this.lastClose = f64();
    this.firstClose = f64().fill(Number.NaN);
    this.hwm = f64();
    this.lwm = f64();
    this.ordActive = new Uint8Array(n);
    this.ordSide = new Int8Array(n);
    this.ordTarget = f64();
    this.ordType = new Uint8Array(n);
    this.ordLimit = f64();
    this.ordStop = f64();
    this.ordTif = new Uint8Array(n);
    this.ordDay = f64();
    this.ordTriggered = new Uint8Array(n);
    this.tOpen = new Uint8Array(n);
    this.tSide = new Int8Array(n);
    this.tEntryTime = f64();
    this.tEntryBar = f64();
    this.tEntryValue = f64();
    this.tEntryQty = f64();
    this.tExitValue = f64();
    this.tExitQty = f64();
    this.tMaxQty = f64();
    this.tPnl = f64();
    this.tFees = f64();
    this.barIndex = new Int32Array(n);
    this.openList = new Int32Array(n);
    this.slip = cfg.slippageBps / 10_000;
    this.stopLoss = cfg.exits.stopLoss ?? 0;
    this.takeProfit = cfg.exits.takeProfit ?? 0;
    this.trailing = cfg.exits.trailingStop ?? 0;
    this.hasExits = this.stopLoss > 0 || this.takeProfit > 0 || this.trailing > 0;
  }

  // Per-run inputs and the per-bar state the loop works on (fields, not captured variables, so doubles
  // are updated in place rather than boxed on every bar).
  private O: Float64Array[] = [];
  private H: Float64Array[] = [];
  private L: Float64Array[] = [];
  private C: Float64Array[] = [];
  private V: Float64Array[] = [];
  private instances: readonly StrategyInstance[] = [];
  private hints: boolean[] = [];
  private started!: Uint8Array;
  private invFirst!: Float64Array;
  /** Σ over symbols of close / first close (1 before a symbol's first traded bar). */
  benchSum = 0;
  private readonly view = new MutableBarView();

  timeline: Float64Array = new Float64Array(0);
  start = 0;
  equity: Float64Array = new Float64Array(0);
  benchmark: Float64Array = new Float64Array(0);
  exposed: Uint8Array = new Uint8Array(0);

  strategyName = 'strategy';
  onFault: ((fault: StrategyFault) => void) | undefined;

  attach(series: readonly BarSeries[], instances: readonly StrategyInstance[]): void {
    this.O = series.map((s) => s.open);
    this.H = series.map((s) => s.high);
    this.L = series.map((s) => s.low);
    this.C = series.map((s) => s.close);
    this.V = series.map((s) => s.volume);
    // A copy: a failing strategy is swapped for DISABLED without touching the caller's array.
    this.instances = [...instances];
    this.hints = instances.map((i) => typeof i.order === 'function');
    this.started = new Uint8Array(this.n);
    this.invFirst = new Float64Array(this.n);
    this.benchSum = this.n;
  }

  /**
   * Bar i of symbol s, at timeline step k: orders, exits, then the strategy's decision. Only integers
   * cross the call (a double argument would be boxed on every bar when the call is not inlined).
   */
  step(s: number, i: number, k: number): void {
    const t = this.timeline[k];
    const trading = k >= this.start;
    this.barIndex[s] = i;
    const o = this.O[s][i];
    const h = this.H[s][i];
    const l = this.L[s][i];
    const c = this.C[s][i];
    if (trading) {
      // Rare paths get indexes, not prices: a double passed to a call that is not inlined is boxed,
      // and the compiler may box it ahead of the branch, on every bar.
      if (this.ordActive[s]) this.workOrder(s, i, k, false);
      if (this.hasExits && this.pos[s] !== 0) this.checkExits(s, i, k);
      if (this.ordActive[s]) this.workOrder(s, i, k, true);
      const p = this.pos[s];
      if (p > 0) {
        if (h > this.hwm[s]) this.hwm[s] = h;
      } else if (p < 0 && l < this.lwm[s]) this.lwm[s] = l;
      if (this.started[s]) this.benchSum += (c - this.lastClose[s]) * this.invFirst[s];
      else {
        this.started[s] = 1;
        this.firstClose[s] = c;
        this.invFirst[s] = 1 / c;
      }
    }
    this.lastClose[s] = c;
    const view = this.view;
    view.time = t;
    view.open = o;
    view.high = h;
    view.low = l;
    view.close = c;
    view.volume = this.V[s][i];
    const inst = this.instances[s];
    // The guard lives here rather than in a wrapper object: one call less per bar. A throw or a
    // malformed decision disables the symbol's strategy for the rest of the run (see fail).
    let d: Decision;
    try {
      d = inst.next(view);
    } catch (err) {
      this.fail(s, `threw: ${err instanceof Error ? err.message : String(err)}`, k);
      return;
    }
    if (d === 0) return;
    if (d !== 1 && d !== -1) {
      this.fail(s, `returned ${JSON.stringify(d) ?? String(d)}; a decision is -1, 0 or 1`, k);
      return;
    }
    if (trading) this.decide(s, d, i, k, this.hints[s] ? this.hintOf(s, k) : null);
  }

  /** The strategy's order hint for the decision it just took; a bad one disables it (null = market). */
  private hintOf(s: number, k: number): Readonly<OrderHint> | null {
    let h: unknown;
    try {
      h = this.instances[s].order?.();
    } catch (err) {
      this.fail(s, `order() threw: ${err instanceof Error ? err.message : String(err)}`, k);
      return null;
    }
    const problem = orderHintProblem(h);
    if (problem) {
      this.fail(s, problem, k);
      return null;
    }
    return (h as OrderHint | null | undefined) ?? null;
  }

  /** Reports a failing strategy (name, symbol, bar, reason) and answers HOLD for it from now on. */
  private fail(s: number, reason: string, k: number): void {
    const mutable = this.instances as StrategyInstance[];
    mutable[s] = DISABLED;
    this.hints[s] = false;
    this.onFault?.({
      strategy: this.strategyName,
      symbol: this.symbols[s],
      barTime: this.timeline[k],
      reason,
    });
  }

  /** The loop for one symbol: its bars are the timeline. */
  runSingle(): void {
    const m = this.timeline.length;
    const start = this.start;
    for (let i = 0; i < m; i++) {
      this.step(0, i, i);
      if (i >= start) this.record(i - start);
    }
  }

  /** The loop for several symbols: at each instant, the bars of the symbols that have one. */
  runMany(plan: { stepStart: Int32Array; pairSym: Int32Array; pairIdx: Int32Array }): void {
    const { stepStart, pairSym, pairIdx } = plan;
    const m = this.timeline.length;
    const start = this.start;
    for (let k = 0; k < m; k++) {
      const end = stepStart[k + 1];
      for (let p = stepStart[k]; p < end; p++) this.step(pairSym[p], pairIdx[p], k);
      if (k >= start) this.record(k - start);
    }
  }

  /** Records equity (cash plus open positions at their last close), benchmark and exposure at point j. */
  record(j: number): void {
    let e = this.cash;
    const pos = this.pos;
    const last = this.lastClose;
    const list = this.openList;
    const open = this.openCount;
    for (let q = 0; q < open; q++) {
      const s = list[q];
      e += pos[s] * last[s];
    }
    this.equity[j] = e;
    this.benchmark[j] = this.benchSum / this.n;
    this.exposed[j] = open > 0 ? 1 : 0;
  }

  equityNow(): number {
    let e = this.cash;
    for (let k = 0; k < this.openCount; k++) {
      const s = this.openList[k];
      e += this.pos[s] * this.lastClose[s];
    }
    return e;
  }

  /** Keeps openList in step with a position that just changed from p0. */
  private track(s: number, p0: number): void {
    const p1 = this.pos[s];
    if (p0 === 0 && p1 !== 0) this.openList[this.openCount++] = s;
    else if (p0 !== 0 && p1 === 0) {
      for (let k = 0; k < this.openCount; k++) {
        if (this.openList[k] === s) {
          this.openList[k] = this.openList[--this.openCount];
          break;
        }
      }
    }
  }

  fee(qty: number, price: number): number {
    const c = this.cfg.commission;
    switch (c.type) {
      case 'none':
        return 0;
      case 'per_share':
        return Math.max(c.minimum, qty * c.perShare);
      case 'percent':
        return (qty * price * c.percent) / 100;
      case 'fixed':
        return c.perOrder;
    }
  }

  /** Most units `cash` buys at `price`, fees included. */
  affordable(cash: number, price: number): number {
    const c = this.cfg.commission;
    let q: number;
    switch (c.type) {
      case 'none':
        q = cash / price;
        break;
      case 'per_share':
        q = Math.min((cash - c.minimum) / price, cash / (price + c.perShare));
        break;
      case 'percent':
        q = cash / (price * (1 + c.percent / 100));
        break;
      case 'fixed':
        q = (cash - c.perOrder) / price;
        break;
    }
    return this.units(Math.max(q, 0));
  }

  units(q: number): number {
    if (this.cfg.fractional) return Math.floor(q * 1e8) / 1e8;
    // A hair of tolerance so 99.99999999 from float division still buys 100.
    return Math.floor(q + 1e-9);
  }

  /** Units one decision trades, from the sizing rule and the decision bar's close. */
  size(close: number): number {
    const z = this.cfg.sizing;
    switch (z.type) {
      case 'fixed_qty':
        return z.qty;
      case 'fixed_notional':
        return this.units(z.notional / close);
      case 'percent_equity':
        return this.units((this.equityNow() * z.percent) / 100 / close);
    }
  }

  /**
   * Executes `qty` units at `price` (side +1 buy, -1 sell) after the cash and short checks, which may
   * shrink it. Returns the quantity filled (0 = rejected).
   */
  trade(s: number, side: number, qty: number, price: number, time: number, reason: ExitReason): number {
    const p0 = this.pos[s];
    if (side > 0) {
      const fee = this.fee(qty, price);
      if (qty * price + fee > this.cash + 1e-9) {
        // Covering a short always goes through (it is what the cash is for); a new long shrinks to fit.
        const cover = p0 < 0 ? -p0 : 0;
        const coverCost = cover * price + this.fee(cover, price);
        const extra =
          cover > 0 ? this.affordable(this.cash - coverCost, price) : this.affordable(this.cash, price);
        qty = Math.min(qty, cover + Math.max(extra, 0));
        if (!(qty > 0)) return 0;
      }
    } else {
      const closing = p0 > 0 ? Math.min(qty, p0) : 0;
      const opening = qty - closing;
      if (opening > 0) {
        // A short may not exceed the account's equity (1x, cash as collateral).
        const equity = this.equityNow();
        const existing = p0 < 0 ? -p0 * price : 0;
        const room = this.units(Math.max(equity - existing, 0) / price);
        qty = closing + Math.min(opening, room);
        if (!(qty > 0)) return 0;
      }
    }
    this.apply(s, side, qty, price, this.fee(qty, price), time, reason);
    return qty;
  }

  private apply(
    s: number,
    side: number,
    qty: number,
    price: number,
    fee: number,
    time: number,
    reason: ExitReason,
  ): void {
    const p0 = this.pos[s];
    this.book(s, side, qty, price, fee, time, reason);
    this.track(s, p0);
  }

  private book(
    s: number,
    side: number,
    qty: number,
    price: number,
    fee: number,
    time: number,
    reason: ExitReason,
  ): void {
    const p0 = this.pos[s];
    const signed = side * qty;
    this.cash -= signed * price + fee;
    this.fees += fee;
    this.tradedNotional += qty * price;
    this.fills.push({
      symbol: this.symbols[s],
      time,
      side: side > 0 ? 'buy' : 'sell',
      qty,
      price,
      fee,
      reason,
    });
    let rest = qty;
    if (p0 !== 0 && Math.sign(p0) !== side) {
      const closeQty = Math.min(qty, Math.abs(p0));
      const closeFee = (fee * closeQty) / qty;
      this.tPnl[s] += (price - this.avg[s]) * closeQty * Math.sign(p0);
      this.tExitValue[s] += closeQty * price;
      this.tExitQty[s] += closeQty;
      this.tFees[s] += closeFee;
      rest = qty - closeQty;
      let p1 = p0 + side * closeQty;
      if (Math.abs(p1) < DUST) p1 = 0;
      this.pos[s] = p1;
      if (p1 === 0) {
        this.closeTrade(s, time, reason);
        this.avg[s] = 0;
      }
      if (rest <= DUST) return;
    }
    // Opening or adding.
    const before = Math.abs(this.pos[s]);
    const addFee = (fee * rest) / qty;
    if (!this.tOpen[s]) {
      this.tOpen[s] = 1;
      this.tSide[s] = side;
      this.tEntryTime[s] = time;
      this.tEntryBar[s] = this.barIndex[s];
      this.tEntryValue[s] = 0;
      this.tEntryQty[s] = 0;
      this.tExitValue[s] = 0;
      this.tExitQty[s] = 0;
      this.tMaxQty[s] = 0;
      this.tPnl[s] = 0;
      this.tFees[s] = 0;
      this.hwm[s] = price;
      this.lwm[s] = price;
    }
    this.avg[s] = (this.avg[s] * before + price * rest) / (before + rest);
    this.pos[s] += side * rest;
    this.tEntryValue[s] += rest * price;
    this.tEntryQty[s] += rest;
    this.tFees[s] += addFee;
    const held = Math.abs(this.pos[s]);
    if (held > this.tMaxQty[s]) this.tMaxQty[s] = held;
  }

  private closeTrade(s: number, time: number, reason: ExitReason | null): void {
    const entryPrice = this.tEntryValue[s] / this.tEntryQty[s];
    const pnl = this.tPnl[s];
    const fees = this.tFees[s];
    const open = Number.isNaN(time); // still open at the end of the data
    this.trades.push({
      symbol: this.symbols[s],
      side: this.tSide[s] > 0 ? 'long' : 'short',
      qty: this.tMaxQty[s],
      entryTime: this.tEntryTime[s],
      entryPrice,
      exitTime: open ? null : time,
      exitPrice: open ? null : this.tExitValue[s] / this.tExitQty[s],
      pnl,
      fees,
      netPnl: pnl - fees,
      returnPct: (pnl - fees) / (entryPrice * this.tMaxQty[s]),
      exitReason: open ? null : reason,
      bars: this.barIndex[s] - this.tEntryBar[s],
    });
    this.tOpen[s] = 0;
  }

  /** Works the pending order against a bar; `atClose` works only market orders of `next_close`. */
  workOrder(s: number, i: number, k: number, atClose: boolean): void {
    const t = this.timeline[k];
    const o = this.O[s][i];
    const h = this.H[s][i];
    const l = this.L[s][i];
    const c = this.C[s][i];
    const type = this.ordType[s];
    if (atClose !== (type === MARKET && this.cfg.fillAt === 'next_close')) return;
    if (this.ordTif[s] === DAY) {
      const day = Math.floor(t / DAY_MS);
      if (this.ordDay[s] < 0) this.ordDay[s] = day;
      else if (day !== this.ordDay[s]) {
        this.ordActive[s] = 0;
        this.orders.expired++;
        return;
      }
    }
    const side = this.ordSide[s];
    let px = Number.NaN;
    let slip = false;
    switch (type) {
      case MARKET:
        px = atClose ? c : o;
        slip = true;
        break;
      case LIMIT:
        px = limitFill(side, this.ordLimit[s], o, h, l);
        break;
      case STOP:
        px = stopFill(side, this.ordStop[s], o, h, l);
        slip = true;
        break;
      case STOP_LIMIT: {
        const stop = this.ordStop[s];
        const lim = this.ordLimit[s];
        if (this.ordTriggered[s]) px = limitFill(side, lim, o, h, l);
        else if (side > 0 ? o >= stop : o <= stop) {
          // Triggered at the open: the rest of the bar trades after it.
          this.ordTriggered[s] = 1;
          px = limitFill(side, lim, o, h, l);
        } else if (side > 0 ? h >= stop : l <= stop) {
          // Triggered inside the bar at the stop. Whether the price came back to a limit beyond the stop
          // afterwards cannot be known from one bar: it fills here only when the stop itself is within the limit.
          this.ordTriggered[s] = 1;
          if (side > 0 ? stop <= lim : stop >= lim) px = stop;
        }
        break;
      }
    }
    if (Number.isNaN(px)) return;
    if (slip && this.slip > 0)
      px = side > 0 ? Math.min(px * (1 + this.slip), h) : Math.max(px * (1 - this.slip), l);
    this.fillOrder(s, px, t);
  }

  private fillOrder(s: number, px: number, t: number): void {
    this.ordActive[s] = 0;
    const qty = this.ordTarget[s] - this.pos[s];
    // An exit may have flattened the position since the order was queued: nothing left to do.
    if (Math.abs(qty) < DUST || Math.sign(qty) !== this.ordSide[s]) {
      this.orders.canceled++;
      return;
    }
    if (this.trade(s, this.ordSide[s], Math.abs(qty), px, t, 'signal') > 0) this.orders.filled++;
    else this.orders.rejected++;
  }

  checkExits(s: number, i: number, k: number): void {
    const t = this.timeline[k];
    const o = this.O[s][i];
    const h = this.H[s][i];
    const l = this.L[s][i];
    const p = this.pos[s];
    const entry = this.avg[s];
    let px = Number.NaN;
    let reason: ExitReason = 'stop_loss';
    if (p > 0) {
      const sl = this.stopLoss > 0 ? entry * (1 - this.stopLoss) : 0;
      const tr = this.trailing > 0 ? this.hwm[s] * (1 - this.trailing) : 0;
      const stop = Math.max(sl, tr);
      const target = this.takeProfit > 0 ? entry * (1 + this.takeProfit) : Number.POSITIVE_INFINITY;
      reason = tr > sl ? 'trailing_stop' : 'stop_loss';
      if (stop > 0 && o <= stop) px = o;
      else if (o >= target) {
        px = o;
        reason = 'take_profit';
      } else if (stop > 0 && l <= stop) px = stop;
      else if (h >= target) {
        px = target;
        reason = 'take_profit';
      }
      if (!Number.isNaN(px) && reason !== 'take_profit' && this.slip > 0)
        px = Math.max(px * (1 - this.slip), l);
      if (!Number.isNaN(px)) this.trade(s, -1, p, px, t, reason);
    } else if (p < 0) {
      const sl = this.stopLoss > 0 ? entry * (1 + this.stopLoss) : Number.POSITIVE_INFINITY;
      const tr = this.trailing > 0 ? this.lwm[s] * (1 + this.trailing) : Number.POSITIVE_INFINITY;
      const stop = Math.min(sl, tr);
      const target = this.takeProfit > 0 ? entry * (1 - this.takeProfit) : 0;
      reason = tr < sl ? 'trailing_stop' : 'stop_loss';
      if (o >= stop) px = o;
      else if (o <= target) {
        px = o;
        reason = 'take_profit';
      } else if (h >= stop) px = stop;
      else if (l <= target) {
        px = target;
        reason = 'take_profit';
      }
      if (!Number.isNaN(px) && reason !== 'take_profit' && this.slip > 0)
        px = Math.min(px * (1 + this.slip), h);
      if (!Number.isNaN(px)) this.trade(s, 1, -p, px, t, reason);
    }
  }

  decide(s: number, d: Decision, i: number, k: number, hint: Readonly<OrderHint> | null): void {
    const t = this.timeline[k];
    const c = this.C[s][i];
    const h = this.H[s][i];
    const l = this.L[s][i];
    this.decisions.push({ symbol: this.symbols[s], time: t, decision: d as 1 | -1, price: c });
    if (this.ordActive[s]) {
      this.ordActive[s] = 0;
      this.orders.canceled++;
    }
    const p = this.pos[s];
    let target: number;
    if (d > 0) {
      if (p > 0) return;
      target = this.size(c);
      if (!(target > 0) && p === 0) {
        this.orders.rejected++;
        return;
      }
    } else {
      if (p < 0 || (p === 0 && !this.cfg.allowShort)) return;
      target = this.cfg.allowShort ? -this.size(c) : 0;
    }
    const side = d > 0 ? 1 : -1;
    const defaults = this.cfg.order;
    const type = hint ? ORDER_TYPE[hint.type] : ORDER_TYPE[defaults.type];
    let limit = hint?.limitPrice ?? Number.NaN;
    let stop = hint?.stopPrice ?? Number.NaN;
    if (!hint) {
      limit = c * (1 - (side * defaults.limitOffsetBps) / 10_000);
      stop = c * (1 + (side * defaults.stopOffsetBps) / 10_000);
    }
    this.orders.submitted++;
    this.ordActive[s] = 1;
    this.ordSide[s] = side;
    this.ordTarget[s] = target;
    this.ordType[s] = type;
    this.ordLimit[s] = limit;
    this.ordStop[s] = stop;
    this.ordTif[s] = (hint?.timeInForce ?? defaults.timeInForce) === 'day' ? DAY : GTC;
    this.ordDay[s] = -1;
    this.ordTriggered[s] = 0;
    if (type === MARKET && this.cfg.fillAt === 'close') {
      const px =
        this.slip > 0 ? (side > 0 ? Math.min(c * (1 + this.slip), h) : Math.max(c * (1 - this.slip), l)) : c;
      this.fillOrder(s, px, t);
    }
  }

  /** Closes the books at the end: open trades are listed with their P&L marked at the last close. */
  finish(): void {
    for (let s = 0; s < this.n; s++) {
      if (!this.tOpen[s]) continue;
      const p = this.pos[s];
      this.tPnl[s] += (this.lastClose[s] - this.avg[s]) * p;
      this.closeTrade(s, Number.NaN, null);
    }
    this.trades.sort(
      (a, b) => a.entryTime - b.entryTime || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0),
    );
  }
}

function limitFill(side: number, lim: number, o: number, h: number, l: number): number {
  if (side > 0) return o <= lim ? o : l <= lim ? lim : Number.NaN;
  return o >= lim ? o : h >= lim ? lim : Number.NaN;
}

function stopFill(side: number, stop: number, o: number, h: number, l: number): number {
  if (side > 0) return o >= stop ? o : h >= stop ? stop : Number.NaN;
  return o <= stop ? o : l <= stop ? stop : Number.NaN;
}

/**
 * Which symbol's bar comes at each instant of the timeline, as flat arrays: the bars of step k are
 * pairs stepStart[k] … stepStart[k + 1] − 1 of (pairSym, pairIdx). Built once, so the loop does not
 * probe every symbol at every instant.
 */
export function schedule(
  series: readonly BarSeries[],
  timeline: Float64Array,
): { stepStart: Int32Array; pairSym: Int32Array; pairIdx: Int32Array } {
  let total = 0;
  for (const s of series) total += s.length;
  const m = timeline.length;
  const stepStart = new Int32Array(m + 1);
  const pairSym = new Int32Array(total);
  const pairIdx = new Int32Array(total);
  const n = series.length;
  const cur = new Int32Array(n);
  const times = series.map((s) => s.time);
  const lengths = Int32Array.from(series, (s) => s.length);
  let p = 0;
  for (let k = 0; k < m; k++) {
    stepStart[k] = p;
    const t = timeline[k];
    for (let s = 0; s < n; s++) {
      const i = cur[s];
      if (i < lengths[s] && times[s][i] === t) {
        pairSym[p] = s;
        pairIdx[p] = i;
        p++;
        cur[s] = i + 1;
      }
    }
  }
  stepStart[m] = p;
  return { stepStart, pairSym, pairIdx };
}

/** First index of `times` at or after `t`. */
function lowerBound(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Runs one backtest: `instances[k]` trades `series[k]` (all of one timeframe) in one portfolio.
 * The instances should be fresh (created for this run) and are fed every bar, warm-up included. A
 * strategy that throws, decides something other than -1, 0 or 1, or gives a malformed order hint is
 * disabled on that symbol for the rest of the run (answers HOLD) and reported through
 * `guard.onFault` when given; the other symbols trade on.
 */
export function runEngine(
  series: readonly BarSeries[],
  instances: readonly StrategyInstance[],
  cfg: EngineConfig,
  guard: { strategy: string; onFault: (fault: StrategyFault) => void } | null = null,
): EngineResult {
  if (series.length === 0) throw new RangeError('a backtest needs at least one series');
  if (instances.length !== series.length) throw new RangeError('one strategy instance per series');
  const sim = new Simulation(series, cfg);
  sim.attach(series, instances);
  if (guard) {
    sim.strategyName = guard.strategy;
    sim.onFault = guard.onFault;
  }
  const n = series.length;
  const timeline = mergeTimelines(series);
  const m = timeline.length;
  const start = lowerBound(timeline, cfg.tradeFrom);
  const points = m - start;
  sim.timeline = timeline;
  sim.start = start;
  sim.equity = new Float64Array(points);
  sim.benchmark = new Float64Array(points);
  sim.exposed = new Uint8Array(points);
  if (n === 1) sim.runSingle();
  else sim.runMany(schedule(series, timeline));
  const { equity, benchmark, exposed } = sim;
  // A view, not a copy: the timeline is either a fresh merge or the only series' own times.
  const times = timeline.subarray(start);
  // Open trades are held until the last bar of their symbol.
  for (let s = 0; s < n; s++) sim.barIndex[s] = Math.max(0, series[s].length - 1);
  sim.finish();
  let processed = 0;
  for (const s of series) processed += s.length;
  return {
    symbols: sim.symbols,
    times,
    equity,
    benchmark,
    exposed,
    startEquity: cfg.cash,
    endEquity: points > 0 ? equity[points - 1] : cfg.cash,
    trades: sim.trades,
    fills: sim.fills,
    decisions: sim.decisions,
    orders: sim.orders,
    fees: sim.fees,
    tradedNotional: sim.tradedNotional,
    firstClose: sim.firstClose,
    lastClose: sim.lastClose,
    barsProcessed: processed,
  };
}
