/**
 * What a run records besides its curve — fills, decisions and round trips — as columns of typed arrays
 * that grow by doubling. A million-bar run makes tens of thousands of each; as objects they cost an
 * allocation apiece and kept the young-generation collector copying them for the rest of the run. The
 * engine writes the columns in place (no call per event, so no number is boxed); objects are built
 * only when someone asks for the list.
 */
import type { BacktestTrade } from '../schemas/backtest.ts';
import { IsoTimes } from './calendar.ts';
import type { DecisionRecord, ExitReason, FillRecord, TradeRecord } from './types.ts';

const REASONS: readonly ExitReason[] = ['signal', 'stop_loss', 'take_profit', 'trailing_stop'];
/** The exit reason of a trade still open. */
export const NO_REASON = 255;

export function reasonCode(reason: ExitReason): number {
  return reason === 'signal' ? 0 : reason === 'stop_loss' ? 1 : reason === 'take_profit' ? 2 : 3;
}

const grown = <T extends Float64Array | Int32Array | Int8Array | Uint8Array>(a: T, size: number): T => {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
};

const INITIAL = 64;

/** Executions, in the order they happened. */
export class FillLog {
  length = 0;
  capacity = INITIAL;
  symbol = new Int32Array(INITIAL);
  time = new Float64Array(INITIAL);
  side = new Int8Array(INITIAL);
  qty = new Float64Array(INITIAL);
  price = new Float64Array(INITIAL);
  fee = new Float64Array(INITIAL);
  reason = new Uint8Array(INITIAL);

  /** Makes room for one more; returns its index. */
  add(): number {
    if (this.length === this.capacity) {
      const c = this.capacity * 2;
      this.symbol = grown(this.symbol, c);
      this.time = grown(this.time, c);
      this.side = grown(this.side, c);
      this.qty = grown(this.qty, c);
      this.price = grown(this.price, c);
      this.fee = grown(this.fee, c);
      this.reason = grown(this.reason, c);
      this.capacity = c;
    }
    return this.length++;
  }

  records(symbols: readonly string[]): FillRecord[] {
    const out: FillRecord[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) {
      out[i] = {
        symbol: symbols[this.symbol[i]],
        time: this.time[i],
        side: this.side[i] > 0 ? 'buy' : 'sell',
        qty: this.qty[i],
        price: this.price[i],
        fee: this.fee[i],
        reason: REASONS[this.reason[i]],
      };
    }
    return out;
  }
}

/** The strategies' non-HOLD decisions on traded bars. */
export class DecisionLog {
  length = 0;
  capacity = INITIAL;
  symbol = new Int32Array(INITIAL);
  time = new Float64Array(INITIAL);
  decision = new Int8Array(INITIAL);
  price = new Float64Array(INITIAL);

  add(): number {
    if (this.length === this.capacity) {
      const c = this.capacity * 2;
      this.symbol = grown(this.symbol, c);
      this.time = grown(this.time, c);
      this.decision = grown(this.decision, c);
      this.price = grown(this.price, c);
      this.capacity = c;
    }
    return this.length++;
  }

  records(symbols: readonly string[]): DecisionRecord[] {
    const out: DecisionRecord[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) {
      out[i] = {
        symbol: symbols[this.symbol[i]],
        time: this.time[i],
        decision: this.decision[i] as 1 | -1,
        price: this.price[i],
      };
    }
    return out;
  }
}

/**
 * Round trips in the order they closed (trades still open at the end last), with `exitTime` NaN and
 * `reason` NO_REASON while open. `byEntry()` and `closedByExit()` give the orders results and
 * statistics are taken in.
 */
export class TradeLog {
  length = 0;
  capacity = INITIAL;
  symbol = new Int32Array(INITIAL);
  side = new Int8Array(INITIAL);
  qty = new Float64Array(INITIAL);
  entryTime = new Float64Array(INITIAL);
  entryPrice = new Float64Array(INITIAL);
  exitTime = new Float64Array(INITIAL);
  exitPrice = new Float64Array(INITIAL);
  pnl = new Float64Array(INITIAL);
  fees = new Float64Array(INITIAL);
  netPnl = new Float64Array(INITIAL);
  returnPct = new Float64Array(INITIAL);
  reason = new Uint8Array(INITIAL);
  bars = new Float64Array(INITIAL);

  constructor(readonly symbols: readonly string[]) {}

  add(): number {
    if (this.length === this.capacity) {
      const c = this.capacity * 2;
      this.symbol = grown(this.symbol, c);
      this.side = grown(this.side, c);
      this.qty = grown(this.qty, c);
      this.entryTime = grown(this.entryTime, c);
      this.entryPrice = grown(this.entryPrice, c);
      this.exitTime = grown(this.exitTime, c);
      this.exitPrice = grown(this.exitPrice, c);
      this.pnl = grown(this.pnl, c);
      this.fees = grown(this.fees, c);
      this.netPnl = grown(this.netPnl, c);
      this.returnPct = grown(this.returnPct, c);
      this.reason = grown(this.reason, c);
      this.bars = grown(this.bars, c);
      this.capacity = c;
    }
    return this.length++;
  }

  /** A log of existing records (in their order), so statistics have one code path. */
  static of(trades: readonly TradeRecord[]): TradeLog {
    const symbols = [...new Set(trades.map((t) => t.symbol))];
    const log = new TradeLog(symbols);
    for (const t of trades) {
      const i = log.add();
      log.symbol[i] = symbols.indexOf(t.symbol);
      log.side[i] = t.side === 'long' ? 1 : -1;
      log.qty[i] = t.qty;
      log.entryTime[i] = t.entryTime;
      log.entryPrice[i] = t.entryPrice;
      log.exitTime[i] = t.exitTime ?? Number.NaN;
      log.exitPrice[i] = t.exitPrice ?? Number.NaN;
      log.pnl[i] = t.pnl;
      log.fees[i] = t.fees;
      log.netPnl[i] = t.netPnl;
      log.returnPct[i] = t.returnPct;
      log.reason[i] = t.exitReason === null ? NO_REASON : reasonCode(t.exitReason);
      log.bars[i] = t.bars;
    }
    return log;
  }

  private entryOrder: Int32Array | null = null;

  /**
   * Indexes in the order results list trades: by entry time, then symbol, ties in closing order (a
   * stable sort). One symbol's trades close in the order they opened, so usually nothing moves.
   */
  byEntry(): Int32Array {
    if (this.entryOrder) return this.entryOrder;
    const n = this.length;
    const et = this.entryTime;
    const name = (i: number) => this.symbols[this.symbol[i]];
    const before = (a: number, b: number): number =>
      et[a] - et[b] || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) if (before(i - 1, i) > 0) sorted = false;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    if (!sorted) {
      const idx: number[] = new Array(n);
      for (let i = 0; i < n; i++) idx[i] = i;
      idx.sort(before);
      order.set(idx);
    }
    this.entryOrder = order;
    return order;
  }

  /** Closed trades in exit order; ties in the order results list them (a stable sort of byEntry). */
  closedByExit(): Int32Array {
    const xt = this.exitTime;
    const entry = this.byEntry();
    const out = new Int32Array(entry.length);
    let m = 0;
    let sorted = true;
    for (let k = 0; k < entry.length; k++) {
      const i = entry[k];
      if (Number.isNaN(xt[i])) continue;
      if (m > 0 && xt[out[m - 1]] > xt[i]) sorted = false;
      out[m++] = i;
    }
    const closed = out.subarray(0, m);
    if (!sorted) {
      const idx = Array.from(closed);
      idx.sort((a, b) => xt[a] - xt[b]);
      closed.set(idx);
    }
    return closed;
  }

  /** Trades still open at the end. */
  openCount(): number {
    let open = 0;
    for (let i = 0; i < this.length; i++) if (Number.isNaN(this.exitTime[i])) open++;
    return open;
  }

  records(): TradeRecord[] {
    const order = this.byEntry();
    const out: TradeRecord[] = new Array(order.length);
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const open = Number.isNaN(this.exitTime[i]);
      out[k] = {
        symbol: this.symbols[this.symbol[i]],
        side: this.side[i] > 0 ? 'long' : 'short',
        qty: this.qty[i],
        entryTime: this.entryTime[i],
        entryPrice: this.entryPrice[i],
        exitTime: open ? null : this.exitTime[i],
        exitPrice: open ? null : this.exitPrice[i],
        pnl: this.pnl[i],
        fees: this.fees[i],
        netPnl: this.netPnl[i],
        returnPct: this.returnPct[i],
        exitReason: open ? null : REASONS[this.reason[i]],
        bars: this.bars[i],
      };
    }
    return out;
  }

  /** The trades in result order (byEntry), each column a fresh array of exactly that length. */
  columns(): TradeColumns {
    const order = this.byEntry();
    const n = order.length;
    const pick = <T extends Float64Array | Int32Array | Int8Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      for (let k = 0; k < n; k++) b[k] = a[order[k]];
      return b;
    };
    return {
      length: n,
      symbol: pick(this.symbol),
      side: pick(this.side),
      qty: pick(this.qty),
      entryTime: pick(this.entryTime),
      entryPrice: pick(this.entryPrice),
      exitTime: pick(this.exitTime),
      exitPrice: pick(this.exitPrice),
      pnl: pick(this.pnl),
      fees: pick(this.fees),
      netPnl: pick(this.netPnl),
      returnPct: pick(this.returnPct),
      reason: pick(this.reason),
      bars: pick(this.bars),
    };
  }
}

/** Trades as columns (TradeLog's, in result order): what a worker thread sends instead of objects. */
export interface TradeColumns {
  length: number;
  symbol: Int32Array;
  /** 1 long, −1 short. */
  side: Int8Array;
  qty: Float64Array;
  entryTime: Float64Array;
  entryPrice: Float64Array;
  /** NaN while open. */
  exitTime: Float64Array;
  exitPrice: Float64Array;
  pnl: Float64Array;
  fees: Float64Array;
  netPnl: Float64Array;
  returnPct: Float64Array;
  /** reasonCode, or NO_REASON while open. */
  reason: Uint8Array;
  bars: Float64Array;
}

/** The buffers of the columns, to move to another thread without a copy. */
export function columnBuffers(c: TradeColumns): ArrayBuffer[] {
  return [
    c.symbol,
    c.side,
    c.qty,
    c.entryTime,
    c.entryPrice,
    c.exitTime,
    c.exitPrice,
    c.pnl,
    c.fees,
    c.netPnl,
    c.returnPct,
    c.reason,
    c.bars,
  ].map((a) => a.buffer as ArrayBuffer);
}

/** The result's trade list: one object per trade, times as ISO text, numbered from 1. */
export function tradeObjects(c: TradeColumns, symbols: readonly string[]): BacktestTrade[] {
  const out: BacktestTrade[] = new Array(c.length);
  const entries = new IsoTimes();
  const exits = new IsoTimes();
  for (let i = 0; i < c.length; i++) {
    const open = Number.isNaN(c.exitTime[i]);
    out[i] = {
      seq: i + 1,
      symbol: symbols[c.symbol[i]],
      side: c.side[i] > 0 ? 'long' : 'short',
      qty: c.qty[i],
      entryTime: entries.format(c.entryTime[i]),
      entryPrice: c.entryPrice[i],
      exitTime: open ? null : exits.format(c.exitTime[i]),
      exitPrice: open ? null : c.exitPrice[i],
      pnl: c.pnl[i],
      fees: c.fees[i],
      netPnl: c.netPnl[i],
      returnPct: c.returnPct[i],
      exitReason: c.reason[i] === NO_REASON ? null : REASONS[c.reason[i]],
      bars: c.bars[i],
    };
  }
  return out;
}
