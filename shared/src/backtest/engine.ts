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
import type { Decision, OrderHint, StrategyInstance } from '../strategies/types.ts';
import { SeriesBarView } from './bar-view.ts';
import type { CurveSink } from './curve-stats.ts';
import { DecisionLog, FillLog, NO_REASON, reasonCode, TradeLog } from './logs.ts';
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
/** Curve points per chunk handed to the sink: small enough to be read back from the cache. */
const CHUNK = 2048;

/** What a run keeps of its curves besides the trades. */
export interface EngineOutput {
  /** Keep at most this many evenly spaced points of the curves (first and last included); 0: all. */
  samplePoints?: number;
  /**
   * Called once the number of points is known; the sink it returns receives the whole curve, in
   * order and in chunks, while the run goes (the metrics' statistics), even when only samples are kept.
   */
  sink?: (points: number, sampledAt: Int32Array | null) => CurveSink;
}

/** Indexes of `max` evenly spaced points of a curve of n, the first and last included; null when n ≤ max. */
export function sampleIndexes(n: number, max: number): Int32Array | null {
  if (n <= max) return null;
  const idx = new Int32Array(max);
  for (let k = 0; k < max; k++) idx[k] = Math.round((k * (n - 1)) / (max - 1));
  return idx;
}

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
  /** Symbols with a working order: with none and no position, a bar has nothing to work or exit. */
  workingOrders = 0;

  readonly tradeLog: TradeLog;
  readonly fillLog = new FillLog();
  readonly decisionLog = new DecisionLog();
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
    this.tradeLog = new TradeLog(this.symbols);
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
  private instances: readonly StrategyInstance[] = [];
  private hints: boolean[] = [];
  private started: Uint8Array = new Uint8Array(0);
  private invFirst: Float64Array = new Float64Array(0);
  /** Σ over symbols of close / first close (1 before a symbol's first traded bar). */
  benchSum = 0;
  /** The bar each symbol's strategy sees (see SeriesBarView). */
  private views: SeriesBarView[] = [];

  timeline: Float64Array = new Float64Array(0);
  start = 0;
  points = 0;
  /** Several symbols: which bars each step of the timeline has (see schedule). */
  plan: Plan | null = null;

  // The curve as it is written, one block of CHUNK points at a time. A whole-curve run writes straight
  // into the result arrays (index = point) and hands each block to the sink; a sampled run writes into
  // block-sized buffers that are emptied into the sink and the kept points after each block, so a long
  // run never holds its whole curve.
  private eqBuf: Float64Array = new Float64Array(0);
  private bnBuf: Float64Array = new Float64Array(0);
  private exBuf: Uint8Array = new Uint8Array(0);
  /** Next index to write in the buffers, and the first not yet handed over. */
  private w = 0;
  private wFrom = 0;
  /** Points before buffer index 0 (sampled runs). */
  private written = 0;
  private sink: CurveSink | null = null;
  private keep: Int32Array | null = null;
  private kept = 0;
  get sampledAt(): Int32Array | null {
    return this.keep;
  }
  lastEquity = 0;
  equity: Float64Array = new Float64Array(0);
  benchmark: Float64Array = new Float64Array(0);
  exposed: Uint8Array = new Uint8Array(0);
  sampledTimes: Float64Array | null = null;

  strategyName = 'strategy';
  onFault: ((fault: StrategyFault) => void) | undefined;

  attach(series: readonly BarSeries[], instances: readonly StrategyInstance[]): void {
    this.O = series.map((s) => s.open);
    this.H = series.map((s) => s.high);
    this.L = series.map((s) => s.low);
    this.C = series.map((s) => s.close);
    this.views = series.map((s) => new SeriesBarView(s));
    // A copy: a failing strategy is swapped for DISABLED without touching the caller's array.
    this.instances = [...instances];
    this.hints = instances.map((i) => typeof i.order === 'function');
    this.started = new Uint8Array(this.n);
    this.invFirst = new Float64Array(this.n);
    this.benchSum = this.n;
  }

  /** Sets up the curve buffers for `points` points (see the fields above). */
  prepareCurve(points: number, output: EngineOutput): void {
    this.points = points;
    const max = output.samplePoints ?? 0;
    const keep = max > 0 ? sampleIndexes(points, max) : null;
    this.keep = keep;
    if (keep) {
      this.eqBuf = new Float64Array(CHUNK);
      this.bnBuf = new Float64Array(CHUNK);
      this.exBuf = new Uint8Array(CHUNK);
      this.equity = new Float64Array(keep.length);
      this.benchmark = new Float64Array(keep.length);
      this.exposed = new Uint8Array(keep.length);
      this.sampledTimes = new Float64Array(keep.length);
    } else {
      this.equity = this.eqBuf = new Float64Array(points);
      this.benchmark = this.bnBuf = new Float64Array(points);
      this.exposed = this.exBuf = new Uint8Array(points);
    }
    this.sink = output.sink ? output.sink(points, keep) : null;
  }

  /** Hands the points written since the last flush to the sink (and, sampled, keeps the chosen ones). */
  flush(): void {
    const w = this.w;
    const from = this.wFrom;
    if (w <= from) return;
    this.lastEquity = this.eqBuf[w - 1];
    this.sink?.consume(
      this.eqBuf,
      this.bnBuf,
      this.exBuf,
      from,
      w,
      this.timeline,
      this.start + this.written + from,
    );
    const keep = this.keep;
    if (keep === null) {
      this.wFrom = w;
      return;
    }
    const base = this.written;
    const end = base + w;
    let k = this.kept;
    while (k < keep.length && keep[k] < end) {
      const q = keep[k] - base;
      this.equity[k] = this.eqBuf[q];
      this.benchmark[k] = this.bnBuf[q];
      this.exposed[k] = this.exBuf[q];
      (this.sampledTimes as Float64Array)[k] = this.timeline[this.start + keep[k]];
      k++;
    }
    this.kept = k;
    this.written = end;
    this.w = 0;
  }

  /**
   * The whole run, in blocks of at most CHUNK bars (steps of the timeline): warm-up blocks only feed
   * the strategies; each traded block writes CHUNK points of the curve, then hands them over. Blocks
   * are functions called hundreds of times per run, so the optimiser compiles them like any hot
   * function; one loop over every bar would live on on-stack replacement, and run unoptimised (boxing
   * numbers on every bar) from whenever it deoptimises until it is replaced again.
   */
  run(): void {
    const m = this.timeline.length;
    const start = this.start;
    const single = this.n === 1;
    for (let from = 0; from < start; from += CHUNK) {
      const to = Math.min(start, from + CHUNK);
      if (single) this.warmSingle(from, to);
      else this.steps(from, to, false);
    }
    if (single && start < m) {
      // The benchmark starts at the first traded close (benchSum stays 1 for that bar: one symbol).
      const c = this.C[0][start];
      this.started[0] = 1;
      this.firstClose[0] = c;
      this.invFirst[0] = 1 / c;
    }
    for (let from = start; from < m; from += CHUNK) {
      const to = Math.min(m, from + CHUNK);
      if (single) this.tradeSingle(from, to);
      else this.steps(from, to, true);
      this.flush();
    }
  }

  /**
   * Bar i of symbol s at timeline step k (several symbols): orders, exits, then the strategy's decision.
   * Only integers cross the call (a double argument would be boxed on every bar when the call is not
   * inlined).
   */
  step(s: number, i: number, k: number, trading: boolean): void {
    const c = this.C[s][i];
    if (trading) {
      // Orders and exits only matter with an order working or a position open: most bars have neither.
      if (this.ordActive[s] !== 0 || this.pos[s] !== 0) this.manage(s, i, k);
      if (this.started[s]) this.benchSum += (c - this.lastClose[s]) * this.invFirst[s];
      else {
        this.started[s] = 1;
        this.firstClose[s] = c;
        this.invFirst[s] = 1 / c;
      }
    }
    this.lastClose[s] = c;
    const view = this.views[s];
    view.moveTo(i);
    // The guard lives here rather than in a wrapper object: one call less per bar. A throw or a
    // malformed decision disables the symbol's strategy for the rest of the run (see fail).
    let d: Decision;
    try {
      d = this.instances[s].next(view);
    } catch (err) {
      this.threw(s, err, k);
      return;
    }
    if (d !== 0) this.decided(s, d, i, k, trading);
  }

  /**
   * The pending order worked against bar i, then the exits, then the high/low water marks: rare-path
   * work (indexes, not prices, cross the call: a double passed to a call that is not inlined is boxed,
   * and the compiler may box it ahead of the branch, on every bar).
   */
  private manage(s: number, i: number, k: number): void {
    this.barIndex[s] = i;
    if (this.ordActive[s]) this.workOrder(s, i, k, false);
    if (this.hasExits && this.pos[s] !== 0) this.checkExits(s, i, k);
    if (this.ordActive[s]) this.workOrder(s, i, k, true);
    const p = this.pos[s];
    if (p > 0) {
      const h = this.H[s][i];
      if (h > this.hwm[s]) this.hwm[s] = h;
    } else if (p < 0) {
      const l = this.L[s][i];
      if (l < this.lwm[s]) this.lwm[s] = l;
    }
  }

  /** A non-HOLD answer: a malformed one disables the strategy; a valid one is acted on once trading. */
  private decided(s: number, d: unknown, i: number, k: number, trading: boolean): void {
    if (d !== 1 && d !== -1) {
      this.fail(s, `returned ${JSON.stringify(d) ?? String(d)}; a decision is -1, 0 or 1`, k);
      return;
    }
    if (!trading) return;
    this.barIndex[s] = i;
    this.decide(s, d, i, k, this.hints[s] ? this.hintOf(s, k) : null);
  }

  private threw(s: number, err: unknown, k: number): void {
    this.fail(s, `threw: ${err instanceof Error ? err.message : String(err)}`, k);
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

  /** Warm-up bars of one symbol: the strategy sees them, nothing trades. */
  private warmSingle(from: number, to: number): void {
    const C = this.C[0];
    const view = this.views[0];
    const lastClose = this.lastClose;
    let inst = this.instances[0];
    for (let i = from; i < to; i++) {
      lastClose[0] = C[i];
      view.moveTo(i);
      let d: Decision;
      try {
        d = inst.next(view);
      } catch (err) {
        this.threw(0, err, i);
        inst = this.instances[0];
        continue;
      }
      if (d !== 0) {
        this.decided(0, d, i, i, false);
        inst = this.instances[0];
      }
    }
  }

  /**
   * Traded bars of one symbol (its bars are the timeline), the hot path of a backtest. Most bars have
   * no working order and no exit to watch: until the strategy decides something, cash and position
   * cannot change, so an inner loop keeps them in registers and makes no call but the strategy's; a
   * call in the loop would make the compiler check every array and object again on every bar. A bar
   * with work to do (an order, a watched position, a decision) takes the full path, one bar at a time.
   */
  private tradeSingle(from: number, to: number): void {
    const C = this.C[0];
    const view = this.views[0];
    const pos = this.pos;
    const lastClose = this.lastClose;
    const first = this.start;
    const invFirst = this.invFirst[0];
    const hasExits = this.hasExits;
    const eq = this.eqBuf;
    const bn = this.bnBuf;
    const ex = this.exBuf;
    let inst = this.instances[0];
    let bench = this.benchSum;
    let prev = lastClose[0];
    let w = this.w;
    let i = from;
    while (i < to) {
      let d: Decision = 0;
      let c = C[i];
      if (this.workingOrders === 0 && (this.openCount === 0 || !hasExits)) {
        const cash = this.cash;
        const p = this.openCount !== 0 ? pos[0] : 0;
        const exposed = p !== 0 ? 1 : 0;
        for (;;) {
          if (i !== first) bench += (c - prev) * invFirst;
          prev = c;
          view.moveTo(i);
          try {
            d = inst.next(view);
          } catch (err) {
            this.threw(0, err, i);
            inst = this.instances[0];
            d = 0;
          }
          if (d !== 0) break;
          // Equity: cash plus the position at this close (the choice between numbers, not between a
          // number and the cash field: a mix of the two is boxed on every exposed bar); the benchmark
          // is Σ close / first close over one symbol (benchSum / n with n = 1).
          eq[w] = cash + (p !== 0 ? p * c : 0);
          bn[w] = bench;
          ex[w] = exposed;
          w++;
          if (++i === to) break;
          c = C[i];
        }
        lastClose[0] = prev;
        if (d === 0) continue;
      } else {
        this.manage(0, i, i);
        if (i !== first) bench += (c - prev) * invFirst;
        prev = c;
        lastClose[0] = c;
        view.moveTo(i);
        try {
          d = inst.next(view);
        } catch (err) {
          this.threw(0, err, i);
          inst = this.instances[0];
          d = 0;
        }
      }
      if (d !== 0) {
        this.decided(0, d, i, i, true);
        inst = this.instances[0];
      }
      const open = this.openCount !== 0;
      eq[w] = this.cash + (open ? pos[0] * c : 0);
      bn[w] = bench;
      ex[w] = open ? 1 : 0;
      w++;
      i++;
    }
    this.w = w;
    this.benchSum = bench;
  }

  /** Steps from … to − 1 of the timeline, several symbols: at each instant, the bars that have one. */
  private steps(from: number, to: number, trading: boolean): void {
    const plan = this.plan as Plan;
    const stepStart = plan.stepStart;
    const pairSym = plan.pairSym;
    const pairIdx = plan.pairIdx;
    for (let k = from; k < to; k++) {
      const end = stepStart[k + 1];
      for (let p = stepStart[k]; p < end; p++) this.step(pairSym[p], pairIdx[p], k, trading);
      if (trading) this.record();
    }
  }

  /** Records equity (cash plus open positions at their last close), benchmark and exposure. */
  private record(): void {
    let e = this.cash;
    const pos = this.pos;
    const last = this.lastClose;
    const list = this.openList;
    const open = this.openCount;
    for (let q = 0; q < open; q++) {
      const s = list[q];
      e += pos[s] * last[s];
    }
    const w = this.w;
    this.eqBuf[w] = e;
    this.bnBuf[w] = this.benchSum / this.n;
    this.exBuf[w] = open > 0 ? 1 : 0;
    this.w = w + 1;
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
    const fills = this.fillLog;
    const f = fills.add();
    fills.symbol[f] = s;
    fills.time[f] = time;
    fills.side[f] = side;
    fills.qty[f] = qty;
    fills.price[f] = price;
    fills.fee[f] = fee;
    fills.reason[f] = reasonCode(reason);
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
    const log = this.tradeLog;
    const k = log.add();
    log.symbol[k] = s;
    log.side[k] = this.tSide[s] > 0 ? 1 : -1;
    log.qty[k] = this.tMaxQty[s];
    log.entryTime[k] = this.tEntryTime[s];
    log.entryPrice[k] = entryPrice;
    log.exitTime[k] = time;
    log.exitPrice[k] = open ? Number.NaN : this.tExitValue[s] / this.tExitQty[s];
    log.pnl[k] = pnl;
    log.fees[k] = fees;
    log.netPnl[k] = pnl - fees;
    log.returnPct[k] = (pnl - fees) / (entryPrice * this.tMaxQty[s]);
    log.reason[k] = open || reason === null ? NO_REASON : reasonCode(reason);
    log.bars[k] = this.barIndex[s] - this.tEntryBar[s];
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
        this.workingOrders--;
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
    this.workingOrders--;
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
    const decisions = this.decisionLog;
    const q = decisions.add();
    decisions.symbol[q] = s;
    decisions.time[q] = t;
    decisions.decision[q] = d;
    decisions.price[q] = c;
    if (this.ordActive[s]) {
      this.ordActive[s] = 0;
      this.workingOrders--;
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
    this.workingOrders++;
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

interface Plan {
  stepStart: Int32Array;
  pairSym: Int32Array;
  pairIdx: Int32Array;
}

/**
 * Which symbol's bar comes at each instant of the timeline, as flat arrays: the bars of step k are
 * pairs stepStart[k] … stepStart[k + 1] − 1 of (pairSym, pairIdx). Built once, so the loop does not
 * probe every symbol at every instant.
 */
export function schedule(series: readonly BarSeries[], timeline: Float64Array): Plan {
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
  output: EngineOutput = {},
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
  sim.prepareCurve(points, output);
  if (n > 1) sim.plan = schedule(series, timeline);
  sim.run();
  const { equity, benchmark, exposed } = sim;
  // A view, not a copy: the timeline is either a fresh merge or the only series' own times.
  const times = sim.sampledTimes ?? timeline.subarray(start);
  // Open trades are held until the last bar of their symbol.
  for (let s = 0; s < n; s++) sim.barIndex[s] = Math.max(0, series[s].length - 1);
  sim.finish();
  let processed = 0;
  for (const s of series) processed += s.length;
  let trades: TradeRecord[] | undefined;
  let fills: FillRecord[] | undefined;
  let decisions: DecisionRecord[] | undefined;
  return {
    symbols: sim.symbols,
    times,
    equity,
    benchmark,
    exposed,
    startEquity: cfg.cash,
    endEquity: points > 0 ? sim.lastEquity : cfg.cash,
    // Lists of objects only when asked for: most callers read the logs (see logs.ts).
    get trades() {
      trades ??= sim.tradeLog.records();
      return trades;
    },
    get fills() {
      fills ??= sim.fillLog.records(sim.symbols);
      return fills;
    },
    get decisions() {
      decisions ??= sim.decisionLog.records(sim.symbols);
      return decisions;
    },
    tradeLog: sim.tradeLog,
    orders: sim.orders,
    fees: sim.fees,
    tradedNotional: sim.tradedNotional,
    firstClose: sim.firstClose,
    lastClose: sim.lastClose,
    barsProcessed: processed,
    points,
    sampledAt: sim.sampledAt,
  };
}
